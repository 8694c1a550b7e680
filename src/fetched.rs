//! What a page loads from the server and shows as it arrives: one resource type for every answer.
//!
//! Every [`Fetched`] is the same `LocalResource` underneath, holding the answer type-erased, so the
//! wasm carries the async resource machinery once instead of once per answer type; the page still
//! reads its own type, taken back out by [`Fetched::get`].

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;

use leptos::prelude::*;

use crate::api::ApiError;

/// An answer, whatever its type.
type Answer = Result<Rc<dyn Any>, ApiError>;

/// A call to the server, asked again on every refetch.
type Call = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Answer>>>>;

/// The answer of a call to the server: `None` while it loads, then the answer or why it failed.
/// Reading it subscribes, as a `LocalResource` does.
pub struct Fetched<T> {
    inner: LocalResource<Answer>,
    answer: PhantomData<fn() -> T>,
}

impl<T> Clone for Fetched<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Fetched<T> {}

impl<T: Clone + 'static> Fetched<T> {
    /// Calls `call` now, and again whenever a signal it reads changes or [`Fetched::refetch`] asks.
    pub fn new<Fut>(call: impl Fn() -> Fut + 'static) -> Self
    where
        Fut: Future<Output = Result<T, ApiError>> + 'static,
    {
        let call: Call = Box::new(move || {
            let answer = call();
            Box::pin(async move { answer.await.map(|a| Rc::new(a) as Rc<dyn Any>) })
        });
        Fetched { inner: resource(call), answer: PhantomData }
    }

    /// The answer, tracked.
    pub fn get(&self) -> Option<Result<T, ApiError>> {
        self.inner.get().map(typed)
    }

    /// The answer, untracked.
    pub fn get_untracked(&self) -> Option<Result<T, ApiError>> {
        self.inner.get_untracked().map(typed)
    }
}

impl<T> Fetched<T> {
    /// Asks the server again.
    pub fn refetch(&self) {
        self.inner.refetch();
    }
}

fn resource(call: Call) -> LocalResource<Answer> {
    LocalResource::new(call)
}

fn typed<T: Clone + 'static>(answer: Answer) -> Result<T, ApiError> {
    answer.map(|a| a.downcast_ref::<T>().cloned().expect("a fetched answer keeps its type"))
}
