//! The full product of a model's options, row by row: the covering array of strength equal
//! to the number of positions.

/// Every row of the product of `sizes`, the last position turning fastest.
pub(super) fn rows(sizes: &[usize]) -> impl Iterator<Item = Vec<usize>> + '_ {
    let mut next = (!sizes.contains(&0)).then(|| vec![0; sizes.len()]);
    std::iter::from_fn(move || {
        let row = next.take()?;
        let mut following = row.clone();
        for p in (0..sizes.len()).rev() {
            following[p] += 1;
            if following[p] < sizes[p] {
                next = Some(following);
                break;
            }
            following[p] = 0;
        }
        Some(row)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_product_is_every_row_in_order() {
        let all: Vec<Vec<usize>> = rows(&[2, 3]).collect();
        assert_eq!(
            all,
            vec![
                vec![0, 0],
                vec![0, 1],
                vec![0, 2],
                vec![1, 0],
                vec![1, 1],
                vec![1, 2]
            ]
        );
        assert_eq!(rows(&[3, 3, 3]).count(), 27);
    }
}
