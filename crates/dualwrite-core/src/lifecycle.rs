//! The lifecycle of a map: its statuses, the actions each status allows, and where each action leads.
//!
//! | status | actions |
//! |---|---|
//! | not_running | run (with or without initial sync), edit, delete |
//! | initializing | none by a user; the runtime reports `initial_sync_done` or `initial_sync_failed` |
//! | running | pause, stop |
//! | paused | resume (`catch_up`, `skip_preserve`, `skip_discard`), stop |
//! | resuming | skip to live; the runtime reports `catch_up_done` |

use std::fmt;

use serde::{Deserialize, Serialize};

/// A map's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MapStatus {
    NotRunning,
    Initializing,
    Running,
    Paused,
    Resuming,
}

impl MapStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MapStatus::NotRunning => "not_running",
            MapStatus::Initializing => "initializing",
            MapStatus::Running => "running",
            MapStatus::Paused => "paused",
            MapStatus::Resuming => "resuming",
        }
    }

    /// The actions a user may take in this status (the runtime's own reports left out).
    pub fn user_actions(self) -> &'static [&'static str] {
        match self {
            MapStatus::NotRunning => &["run", "edit", "delete"],
            MapStatus::Initializing => &[],
            MapStatus::Running => &["pause", "stop"],
            MapStatus::Paused => &["resume", "stop"],
            MapStatus::Resuming => &["skip_to_live"],
        }
    }

    /// Whether the map's definition may change (edit, delete, schema change): only when not running.
    pub fn is_editable(self) -> bool {
        self == MapStatus::NotRunning
    }

    /// Whether writes to the map's tables are queued rather than synced at once.
    pub fn queues_writes(self) -> bool {
        matches!(self, MapStatus::Initializing | MapStatus::Paused | MapStatus::Resuming)
    }
}

impl fmt::Display for MapStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a paused map resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResumeMode {
    /// Replay the queue in order, then go live.
    CatchUp,
    /// Go live at once; the queue moves to catch-up errors for retry.
    SkipPreserve,
    /// Go live at once; the queue is dropped.
    SkipDiscard,
}

/// Something done to a map, by a user or reported by the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Run {
        initial_sync: bool,
    },
    Pause,
    Resume {
        mode: ResumeMode,
    },
    Stop,
    SkipToLive,
    Edit,
    Delete,
    /// The runtime: the initial write finished.
    InitialSyncDone,
    /// The runtime: the initial write failed; the map goes back to not running.
    InitialSyncFailed,
    /// The runtime: the catch-up queue drained.
    CatchUpDone,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Run { .. } => "run",
            Action::Pause => "pause",
            Action::Resume { .. } => "resume",
            Action::Stop => "stop",
            Action::SkipToLive => "skip_to_live",
            Action::Edit => "edit",
            Action::Delete => "delete",
            Action::InitialSyncDone => "initial_sync_done",
            Action::InitialSyncFailed => "initial_sync_failed",
            Action::CatchUpDone => "catch_up_done",
        }
    }
}

/// An action the status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a map that is {status} cannot {}; {}", action.replace('_', " "), allowed_text(*status))]
pub struct LifecycleError {
    pub status: MapStatus,
    pub action: &'static str,
}

fn allowed_text(status: MapStatus) -> String {
    match status.user_actions() {
        [] => "wait until the initial write finishes".to_owned(),
        actions => format!("allowed now: {}", actions.join(", ").replace('_', " ")),
    }
}

/// Where `action` takes a map in `status`. `edit` and `delete` leave it `not_running` (the caller
/// changes or removes the map).
pub fn transition(status: MapStatus, action: Action) -> Result<MapStatus, LifecycleError> {
    use MapStatus::*;
    let next = match (status, action) {
        (NotRunning, Action::Run { initial_sync: true }) => Initializing,
        (NotRunning, Action::Run { initial_sync: false }) => Running,
        (NotRunning, Action::Edit | Action::Delete) => NotRunning,
        (Initializing, Action::InitialSyncDone) => Running,
        (Initializing, Action::InitialSyncFailed) => NotRunning,
        (Running, Action::Pause) => Paused,
        (Running | Paused, Action::Stop) => NotRunning,
        (Paused, Action::Resume { mode: ResumeMode::CatchUp }) => Resuming,
        (Paused, Action::Resume { mode: ResumeMode::SkipPreserve | ResumeMode::SkipDiscard }) => Running,
        (Resuming, Action::SkipToLive | Action::CatchUpDone) => Running,
        _ => return Err(LifecycleError { status, action: action.name() }),
    };
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_STATUSES: [MapStatus; 5] = [
        MapStatus::NotRunning,
        MapStatus::Initializing,
        MapStatus::Running,
        MapStatus::Paused,
        MapStatus::Resuming,
    ];

    fn all_actions() -> Vec<Action> {
        vec![
            Action::Run { initial_sync: true },
            Action::Run { initial_sync: false },
            Action::Pause,
            Action::Resume { mode: ResumeMode::CatchUp },
            Action::Resume { mode: ResumeMode::SkipPreserve },
            Action::Resume { mode: ResumeMode::SkipDiscard },
            Action::Stop,
            Action::SkipToLive,
            Action::Edit,
            Action::Delete,
            Action::InitialSyncDone,
            Action::InitialSyncFailed,
            Action::CatchUpDone,
        ]
    }

    #[test]
    fn the_design_table_of_transitions_holds() {
        use MapStatus::*;
        let cases = [
            (NotRunning, Action::Run { initial_sync: true }, Initializing),
            (NotRunning, Action::Run { initial_sync: false }, Running),
            (Initializing, Action::InitialSyncDone, Running),
            (Initializing, Action::InitialSyncFailed, NotRunning),
            (Running, Action::Pause, Paused),
            (Running, Action::Stop, NotRunning),
            (Paused, Action::Resume { mode: ResumeMode::CatchUp }, Resuming),
            (Paused, Action::Resume { mode: ResumeMode::SkipPreserve }, Running),
            (Paused, Action::Resume { mode: ResumeMode::SkipDiscard }, Running),
            (Paused, Action::Stop, NotRunning),
            (Resuming, Action::SkipToLive, Running),
            (Resuming, Action::CatchUpDone, Running),
        ];
        for (from, action, to) in cases {
            assert_eq!(transition(from, action), Ok(to), "{from} + {}", action.name());
        }
    }

    #[test]
    fn a_map_can_be_edited_or_deleted_only_when_not_running() {
        for status in ALL_STATUSES {
            for action in [Action::Edit, Action::Delete] {
                assert_eq!(transition(status, action).is_ok(), status == MapStatus::NotRunning, "{status}");
            }
        }
    }

    #[test]
    fn nothing_a_user_does_moves_an_initializing_map() {
        let user_actions = all_actions().into_iter().filter(|a| {
            !matches!(a, Action::InitialSyncDone | Action::InitialSyncFailed | Action::CatchUpDone)
        });
        for action in user_actions {
            let error = transition(MapStatus::Initializing, action).expect_err("initializing refuses");
            assert!(error.to_string().contains("wait until the initial write finishes"), "{error}");
        }
    }

    #[test]
    fn a_refused_action_says_what_is_allowed_instead() {
        let error = transition(MapStatus::Running, Action::Edit).expect_err("running maps are not edited");
        assert_eq!(error.to_string(), "a map that is running cannot edit; allowed now: pause, stop");
        let error = transition(MapStatus::Paused, Action::Pause).expect_err("already paused");
        assert_eq!(error.to_string(), "a map that is paused cannot pause; allowed now: resume, stop");
    }

    #[test]
    fn every_allowed_user_action_is_listed_for_its_status() {
        for status in ALL_STATUSES {
            for action in all_actions() {
                let runtime = matches!(
                    action,
                    Action::InitialSyncDone | Action::InitialSyncFailed | Action::CatchUpDone
                );
                if transition(status, action).is_ok() && !runtime {
                    assert!(
                        status.user_actions().contains(&action.name()),
                        "{status} allows {}",
                        action.name()
                    );
                }
            }
        }
    }

    #[test]
    fn statuses_and_actions_use_the_documented_json() {
        assert_eq!(serde_json::to_value(MapStatus::NotRunning).ok(), Some(serde_json::json!("not_running")));
        let resume = serde_json::json!({"action": "resume", "mode": "skip_preserve"});
        let parsed: Action = serde_json::from_value(resume).expect("resume action");
        assert_eq!(parsed, Action::Resume { mode: ResumeMode::SkipPreserve });
    }
}
