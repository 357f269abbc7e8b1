//! Data parallelism for large batches (a listing of 100,000 sessions), on scoped threads:
//! small batches stay on the calling thread.

/// Batches at least this large are split across threads.
pub(crate) const PARALLEL_FROM: usize = 20_000;

fn threads_for(len: usize) -> usize {
    if len < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    }
}

/// `items.iter().map(f).collect()`, in order, on several threads when `items` is large.
pub(crate) fn map_ref<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let threads = threads_for(items.len());
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let f = &f;
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(items.len().div_ceil(threads))
            .map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<U>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_of_any_size_map_in_order() {
        for n in [
            0,
            7,
            PARALLEL_FROM - 1,
            PARALLEL_FROM,
            PARALLEL_FROM * 2 + 3,
        ] {
            let items: Vec<usize> = (0..n).collect();
            let want: Vec<String> = items.iter().map(|i| format!("#{i}")).collect();
            assert_eq!(map_ref(&items, |i| format!("#{i}")), want, "{n} items");
        }
    }
}
