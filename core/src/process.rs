//! Settings of a Lodge process, made first thing in its `main`: the app's,
//! the sync server's and the load tools'.

/// Turn transparent huge pages off for this process (and what it starts).
///
/// mimalloc asks the kernel for huge pages for its memory, and each first
/// touch of one then zeroes 2 MB. Over W1 at 100 devices (issue #17) that
/// zeroing was 16 % of the machine's busy time, for heaps of a few MB;
/// without it W1 took 0.57-0.60 ms of CPU per (change, observer) pair
/// instead of 0.66-0.69, and the server's resident memory was 75 MB instead
/// of 107. Nothing here needs 2 MB pages.
pub fn forgo_huge_pages() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and sets one flag of
    // the calling process; it touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    #[test]
    fn huge_pages_are_off_for_the_process_after_it() {
        super::forgo_huge_pages();
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(status.lines().any(|l| l.split_whitespace().eq(["THP_enabled:", "0"])), "{status}");
    }
}
