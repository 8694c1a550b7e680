//! Stack overflows as crashes libFuzzer records.
//!
//! Without a sanitizer libFuzzer's SIGSEGV handler runs on the overflowed stack itself, so a stack
//! overflow kills the fuzzer before it writes the input that caused it. Here SIGSEGV gets a handler of
//! its own, on a stack of its own, that aborts; libFuzzer, which keeps this handler as the one it passes
//! SIGSEGV on to, then handles the SIGABRT as any crash: it writes the input to `fuzz/artifacts/`.
//!
//! Everything the targets run is safe Rust, so a SIGSEGV there is a stack overflow.

use std::ptr;

/// The alternate stack the handler runs on.
const SIGNAL_STACK_BYTES: usize = 1 << 20;

/// Installs the handler. Called from each target's `init`, which libFuzzer runs before it sets up its
/// own signal handlers.
pub fn report_stack_overflows() {
    let stack: &'static mut [u8] = Box::leak(vec![0u8; SIGNAL_STACK_BYTES].into_boxed_slice());
    let signal_stack = libc::stack_t { ss_sp: stack.as_mut_ptr().cast(), ss_flags: 0, ss_size: stack.len() };
    // SAFETY: the stack is leaked, so it outlives the thread; the action is fully initialised and its
    // handler only writes to stderr and aborts, both async-signal-safe.
    unsafe {
        if libc::sigaltstack(&signal_stack, ptr::null_mut()) != 0 {
            return;
        }
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_segv as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGSEGV, &action, ptr::null_mut());
    }
}

extern "C" fn on_segv(_signal: libc::c_int, _info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    const MESSAGE: &[u8] =
        b"\n==fuzz== SIGSEGV: the stack overflowed (all fuzzed code is safe Rust); aborting\n";
    // SAFETY: write(2) and abort(3) are async-signal-safe.
    unsafe {
        libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::abort();
    }
}
