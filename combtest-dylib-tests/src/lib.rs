//! Tests of `combtest-dylib` as a user's crate uses it: integration tests in `tests/`, and a
//! unit test here, whose binary links the library through this crate root, as a user's unit
//! tests do.

/// The file mapped at `address` in this process (`/proc/self/maps`): where the code at that
/// address was loaded from.
#[cfg(target_os = "linux")]
pub fn file_mapped_at(address: usize) -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let start = usize::from_str_radix(start, 16).ok()?;
        let end = usize::from_str_radix(end, 16).ok()?;
        (start..end)
            .contains(&address)
            .then(|| fields.nth(4).unwrap_or("").to_string())
    })
}

// What a user writes in `lib.rs` for the crate's unit tests.
#[cfg(test)]
use combtest_dylib as _;

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use combtest::prelude::*;

    #[action(options = 0..4)]
    fn add(n: u32, sum: &mut u32) {
        *sum += n;
    }

    #[test]
    fn unit_tests_run_the_runtime_from_the_shared_library() {
        // Neither generic nor `#[inline]`: its code is only in combtest, so in the library.
        let runtime_code = combtest::ShardResult::file_name as fn(_) -> String as usize;
        let file = super::file_mapped_at(runtime_code).expect("the runtime's code is mapped");
        assert!(
            file.contains("libcombtest_dylib"),
            "combtest's code runs from {file}, not from libcombtest_dylib"
        );
        let report = combtest! { order: [add, add], state: 0u32, gather_states: flat };
        let mut sums: Vec<u32> = report.states;
        sums.sort_unstable();
        let mut expected: Vec<u32> = (0..4).flat_map(|a| (0..4).map(move |b| a + b)).collect();
        expected.sort_unstable();
        assert_eq!(sums, expected);
    }
}
