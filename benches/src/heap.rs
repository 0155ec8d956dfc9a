//! A global allocator that can count live heap bytes and their peak, and
//! every allocation with its size.
//!
//! Counting is off unless [`start_counting`] was called, so the timing
//! scenarios pay one relaxed load per allocation and nothing more.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, Ordering::Relaxed},
};

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static ALLOCATED: AtomicU64 = AtomicU64::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// The system allocator, with optional counting.
pub struct CountingAlloc;

/// A new block of `size` bytes (a `realloc` counts as one, of its new size, as
/// heap profilers such as dhat count it: the bytes may all have been copied).
fn allocated(size: usize) {
    ALLOCATED.fetch_add(size as u64, Relaxed);
    ALLOCATIONS.fetch_add(1, Relaxed);
}

fn grew(by: usize) {
    let live = LIVE.fetch_add(by as isize, Relaxed) + by as isize;
    PEAK.fetch_max(live, Relaxed);
}

fn shrank(by: usize) {
    LIVE.fetch_sub(by as isize, Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters only observe sizes.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let ptr = unsafe { System.alloc(layout) };
        if COUNTING.load(Relaxed) && !ptr.is_null() {
            grew(layout.size());
            allocated(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if COUNTING.load(Relaxed) && !ptr.is_null() {
            grew(layout.size());
            allocated(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        if COUNTING.load(Relaxed) {
            shrank(layout.size());
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if COUNTING.load(Relaxed) && !new.is_null() {
            allocated(new_size);
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        new
    }
}

/// Starts counting from zero. Memory allocated before and freed after makes the
/// live count dip below zero, which is why readings are taken relative to a
/// baseline ([`live`] at the start of the measured phase).
pub fn start_counting() {
    LIVE.store(0, Relaxed);
    PEAK.store(0, Relaxed);
    ALLOCATED.store(0, Relaxed);
    ALLOCATIONS.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
}

/// Bytes allocated and not yet freed since counting started.
pub fn live() -> isize {
    LIVE.load(Relaxed)
}

/// The highest [`live`] value since counting started or since [`reset_peak`].
pub fn peak() -> isize {
    PEAK.load(Relaxed)
}

/// Bytes allocated, and allocations made, since counting started (freed or
/// not).
pub fn allocated_so_far() -> (u64, u64) {
    (ALLOCATED.load(Relaxed), ALLOCATIONS.load(Relaxed))
}

/// Restarts the peak from the current live count.
pub fn reset_peak() {
    PEAK.store(LIVE.load(Relaxed), Relaxed);
}
