//! What the kill engine needs of the operating system, under the names the engine and its
//! callers use: the [`Control`] trait is the platform contract (`sys::contract`), and the
//! results of its calls are plain data (`model`). A fake implements it in the engine's tests.

pub use crate::model::{Seen, Sent, Unpinned, Waited};
pub use crate::sys::Control;
