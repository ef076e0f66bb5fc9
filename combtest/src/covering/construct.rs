//! Covering arrays built directly, where mathematics gives the optimum: no search.
//!
//! - strength one less than the positions: every combination of the other positions, and
//!   the smallest position holding their sum (modulo its size);
//! - pairwise over two options: the columns are distinct binary words of one weight
//!   (Katona; Kleitman and Spencer), the fewest rows there can be;
//! - when the `t` largest sizes equal a prime power `q` and there are at most `q + 1`
//!   positions: Bush's orthogonal array, the `q^t` polynomials of degree below `t` over the
//!   field of `q` elements, evaluated at every element (and the leading coefficient; at
//!   strength 3 with `q` a power of 2, the middle one too: `q + 2` positions);
//! - pairwise when the two largest sizes equal any `q`: the product of such arrays over the
//!   factors of `q`, with a pair of orthogonal Latin squares for the factor 10.
//!
//! Each has exactly as many rows as the lower bound it meets (the product of the `t` largest
//! sizes, or the binary bound), so nothing the greedy search could find is smaller.

/// Rows of an optimal array for `sizes` at strength `t`, when one of the constructions
/// applies (at least two positions, `2 <= t < sizes.len()`).
pub(super) fn optimal(sizes: &[usize], t: usize) -> Option<Vec<Vec<usize>>> {
    if t < 2 || t >= sizes.len() {
        return None;
    }
    if t + 1 == sizes.len() {
        return Some(sum_of_the_others(sizes));
    }
    let mut sorted = sizes.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    if t == 2 && sorted[0] == 2 && sorted[1] == 2 {
        return Some(binary_words(sizes));
    }
    let q = sorted[0];
    // At strength 3 over a field of characteristic 2, the middle coefficient is one more
    // column (the array is then Bush's with q + 2 columns).
    let columns = q + 1 + usize::from(t == 3 && q % 2 == 0);
    if sorted[t - 1] == q && sizes.len() <= columns && t <= q {
        if let Some(field) = Field::new(q) {
            return Some(bush(&field, sizes, t));
        }
    }
    if t == 2 && sorted[1] == q {
        return pairwise_over_components(q, sizes);
    }
    None
}

/// Pairwise when the two largest sizes are `q`, for any `q`: an orthogonal array of `q^2`
/// rows built as the product of arrays over the factors of `q` (MacNeish). Row `(r_1, .., r_m)`
/// holds, in each column, the mixed-radix number of the factors' entries: two columns meet
/// each pair of values once because each factor's columns do. Each prime-power factor `f`
/// gives `f + 1` columns (Bush), the factor 10 gives four (the orthogonal Latin squares
/// below), so the product has as many as its poorest factor; `None` past that.
fn pairwise_over_components(q: usize, sizes: &[usize]) -> Option<Vec<Vec<usize>>> {
    let components = pairwise_components(q)?;
    let columns = components.iter().map(|&(_, cols)| cols).min()?;
    if sizes.len() > columns {
        return None;
    }
    let arrays: Vec<Vec<Vec<usize>>> = components
        .iter()
        .map(|&(f, _)| pairwise_array(f, sizes.len()))
        .collect::<Option<_>>()?;
    let row_counts: Vec<usize> = arrays.iter().map(Vec::len).collect();
    Some(
        super::product::rows(&row_counts)
            .map(|picks| {
                (0..sizes.len())
                    .map(|column| {
                        let value = components
                            .iter()
                            .zip(&arrays)
                            .zip(&picks)
                            .fold(0, |acc, ((&(f, _), array), &row)| {
                                acc * f + array[row][column]
                            });
                        value % sizes[column]
                    })
                    .collect()
            })
            .collect(),
    )
}

/// The factors of `q` with how many pairwise columns each gives: its prime powers, with
/// `2 * 5` taken as 10 (four columns, where the factor 2 alone gives three). `None` for `q`
/// below 2 or with a prime power past the field tables.
fn pairwise_components(q: usize) -> Option<Vec<(usize, usize)>> {
    if q < 2 {
        return None;
    }
    let mut powers = Vec::new();
    let mut rest = q;
    let mut p = 2;
    while rest > 1 {
        if rest % p == 0 {
            let mut power = 1;
            while rest % p == 0 {
                rest /= p;
                power *= p;
            }
            powers.push(power);
        }
        p += 1;
    }
    if powers.contains(&2) && powers.contains(&5) {
        powers.retain(|&f| f != 2 && f != 5);
        powers.push(10);
    }
    powers
        .into_iter()
        .map(|f| match f {
            10 => Some((10, 4)),
            f if f <= 256 => Some((f, f + 1)),
            _ => None,
        })
        .collect()
}

/// `f^2` rows of an orthogonal array of strength 2 with `columns` columns over `f` values.
fn pairwise_array(f: usize, columns: usize) -> Option<Vec<Vec<usize>>> {
    if f == 10 {
        return Some(
            (0..100)
                .map(|cell| {
                    let (row, column) = (cell / 10, cell % 10);
                    let values = [
                        row,
                        column,
                        usize::from(LATIN_10[row][column]),
                        usize::from(LATIN_10_MATE[row][column]),
                    ];
                    values[..columns].to_vec()
                })
                .collect(),
        );
    }
    Some(bush(&Field::new(f)?, &vec![f; columns], 2))
}

/// Two orthogonal Latin squares of order 10: every ordered pair of symbols meets once when
/// the squares are laid over each other. Order 10 has no algebraic construction; this pair
/// was found by an exact-cover search for ten disjoint transversals of the first square, and
/// `the_squares_of_order_ten_are_orthogonal` checks it.
const LATIN_10: [[u8; 10]; 10] = [
    [5, 8, 9, 3, 0, 4, 1, 6, 2, 7],
    [8, 5, 4, 9, 6, 7, 2, 3, 1, 0],
    [2, 1, 5, 7, 8, 3, 6, 9, 0, 4],
    [4, 2, 8, 1, 3, 5, 7, 0, 6, 9],
    [0, 4, 1, 5, 9, 6, 3, 7, 8, 2],
    [6, 9, 7, 4, 2, 8, 0, 1, 5, 3],
    [9, 0, 3, 6, 4, 1, 8, 2, 7, 5],
    [7, 6, 2, 8, 5, 0, 9, 4, 3, 1],
    [1, 3, 0, 2, 7, 9, 5, 8, 4, 6],
    [3, 7, 6, 0, 1, 2, 4, 5, 9, 8],
];
const LATIN_10_MATE: [[u8; 10]; 10] = [
    [5, 6, 2, 1, 7, 4, 8, 3, 9, 0],
    [0, 3, 6, 4, 8, 9, 1, 2, 7, 5],
    [3, 5, 1, 8, 4, 7, 9, 0, 6, 2],
    [8, 4, 7, 0, 5, 6, 3, 9, 2, 1],
    [2, 1, 9, 7, 3, 5, 0, 4, 8, 6],
    [1, 7, 5, 9, 2, 3, 4, 6, 0, 8],
    [9, 8, 3, 6, 0, 2, 5, 7, 1, 4],
    [7, 0, 8, 2, 9, 1, 6, 5, 4, 3],
    [4, 9, 0, 5, 6, 8, 2, 1, 3, 7],
    [6, 2, 4, 3, 1, 0, 7, 8, 5, 9],
];

/// Strength `n - 1`: every combination of all positions but the smallest, which holds the
/// sum of the others modulo its size. A combination missing position `i` fixes the others,
/// and `i` runs over at least as many options as the smallest has, so the sum meets each.
fn sum_of_the_others(sizes: &[usize]) -> Vec<Vec<usize>> {
    let smallest = (0..sizes.len())
        .min_by_key(|&p| (sizes[p], std::cmp::Reverse(p)))
        .expect("at least two positions");
    let mut others = sizes.to_vec();
    others[smallest] = 1;
    super::product::rows(&others)
        .map(|mut row| {
            row[smallest] = row.iter().sum::<usize>() % sizes[smallest];
            row
        })
        .collect()
}

/// Pairwise over at most two options: the fewest rows `n` with `C(n - 1, ceil(n / 2))`
/// columns. Each column is 0 in the first row and 1 in `ceil(n / 2)` of the others, a
/// different set per column: two such sets differ both ways, and overlap since together
/// they are larger than the `n - 1` rows they are drawn from.
fn binary_words(sizes: &[usize]) -> Vec<Vec<usize>> {
    // A one-option position stays at its only option and needs no word.
    let binary: Vec<usize> = (0..sizes.len()).filter(|&p| sizes[p] == 2).collect();
    let mut n = 2;
    while binomial(n - 1, n.div_ceil(2)) < binary.len() as u64 {
        n += 1;
    }
    let weight = n.div_ceil(2);
    let mut rows = vec![vec![0; sizes.len()]; n];
    // The first sets of `weight` rows out of rows 1..n, in lexicographic order.
    let mut set: Vec<usize> = (1..=weight).collect();
    for &column in &binary {
        for &r in &set {
            rows[r][column] = 1;
        }
        next_set(&mut set, n);
    }
    rows
}

fn binomial(n: usize, k: usize) -> u64 {
    if k > n {
        return 0;
    }
    (0..k).fold(1u64, |acc, i| {
        acc.saturating_mul((n - i) as u64) / (i as u64 + 1)
    })
}

/// The next `set.len()`-subset of `1..n`, increasing, in lexicographic order.
fn next_set(set: &mut [usize], n: usize) {
    let k = set.len();
    for i in (0..k).rev() {
        if set[i] < n - k + i {
            set[i] += 1;
            for j in i + 1..k {
                set[j] = set[j - 1] + 1;
            }
            return;
        }
    }
}

/// Bush's orthogonal array of strength `t` over the field: one row per polynomial of degree
/// below `t`, column `j < q` its value at element `j`, column `q` its leading coefficient
/// (and column `q + 1`, at strength 3 in characteristic 2, the middle one).
/// A position with fewer options than `q` folds the others onto its own (`v mod size`),
/// which keeps every combination of its own options.
fn bush(field: &Field, sizes: &[usize], t: usize) -> Vec<Vec<usize>> {
    let q = field.order;
    let coefficients = vec![q; t];
    super::product::rows(&coefficients)
        .map(|poly| {
            (0..sizes.len())
                .map(|column| {
                    let value = if column < q {
                        // Horner, highest coefficient first.
                        poly.iter()
                            .fold(0, |acc, &c| field.add(field.mul(acc, column), c))
                    } else {
                        // The leading coefficient, then (strength 3, characteristic 2) the
                        // middle one: two values of f and the x^2 and x coefficients fix
                        // the rest, since (e1 - e2)^2 = e1^2 - e2^2 there.
                        poly[column - q]
                    };
                    value % sizes[column]
                })
                .collect()
        })
        .collect()
}

/// The finite field of a prime-power order, elements `0..q` as polynomials over `Z_p`
/// written in base `p`, with tables for both operations.
struct Field {
    order: usize,
    add: Vec<usize>,
    mul: Vec<usize>,
}

impl Field {
    /// Fields up to 256 elements: larger ones are not worth their tables here.
    fn new(q: usize) -> Option<Field> {
        if !(2..=256).contains(&q) {
            return None;
        }
        let p = (2..=q).find(|d| q % d == 0)?;
        let mut m = 0;
        let mut rest = q;
        while rest % p == 0 {
            rest /= p;
            m += 1;
        }
        if rest != 1 {
            return None;
        }
        let modulus = irreducible(p, m);
        let digits = |x: usize| -> Vec<usize> {
            (0..m)
                .scan(x, |rest, _| {
                    let d = *rest % p;
                    *rest /= p;
                    Some(d)
                })
                .collect()
        };
        let number = |digits: &[usize]| digits.iter().rev().fold(0, |acc, &d| acc * p + d);
        let mut add = vec![0; q * q];
        let mut mul = vec![0; q * q];
        for a in 0..q {
            for b in 0..q {
                let (da, db) = (digits(a), digits(b));
                let sum: Vec<usize> = da.iter().zip(&db).map(|(x, y)| (x + y) % p).collect();
                add[a * q + b] = number(&sum);
                mul[a * q + b] = number(&poly_mod(&poly_mul(&da, &db, p), &modulus, p));
            }
        }
        Some(Field { order: q, add, mul })
    }

    fn add(&self, a: usize, b: usize) -> usize {
        self.add[a * self.order + b]
    }

    fn mul(&self, a: usize, b: usize) -> usize {
        self.mul[a * self.order + b]
    }
}

/// Product of two polynomials over `Z_p` (coefficients lowest degree first).
fn poly_mul(a: &[usize], b: &[usize], p: usize) -> Vec<usize> {
    let mut out = vec![0; a.len() + b.len()];
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            out[i + j] = (out[i + j] + x * y) % p;
        }
    }
    out
}

/// `a` modulo the monic polynomial `modulus` over `Z_p`: degree below the modulus's.
fn poly_mod(a: &[usize], modulus: &[usize], p: usize) -> Vec<usize> {
    let m = modulus.len() - 1;
    let mut r = a.to_vec();
    for i in (m..r.len()).rev() {
        let lead = r[i];
        if lead != 0 {
            for (j, &c) in modulus.iter().enumerate() {
                r[i - m + j] = (r[i - m + j] + p * p - lead * c % p) % p;
            }
        }
    }
    r.resize(m, 0);
    r
}

/// A monic irreducible polynomial of degree `m` over `Z_p`, lowest degree first: the first
/// one no monic polynomial of degree 1 to `m / 2` divides.
fn irreducible(p: usize, m: usize) -> Vec<usize> {
    let monic = |degree: usize, index: usize| -> Vec<usize> {
        let mut poly: Vec<usize> = (0..degree)
            .scan(index, |rest, _| {
                let d = *rest % p;
                *rest /= p;
                Some(d)
            })
            .collect();
        poly.push(1);
        poly
    };
    (0..p.pow(m as u32))
        .map(|index| monic(m, index))
        .find(|candidate| {
            (1..=m / 2).all(|degree| {
                (0..p.pow(degree as u32)).all(|index| {
                    poly_mod(candidate, &monic(degree, index), p)
                        .iter()
                        .any(|&c| c != 0)
                })
            })
        })
        .expect("every degree has an irreducible polynomial")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether every two columns of `rows` meet each pair of values below `q` exactly once.
    fn is_orthogonal_array(rows: &[Vec<usize>], q: usize) -> bool {
        let columns = rows[0].len();
        rows.len() == q * q
            && (0..columns).all(|a| {
                (a + 1..columns).all(|b| {
                    let mut met = vec![0u8; q * q];
                    rows.iter().for_each(|row| met[row[a] * q + row[b]] += 1);
                    met.iter().all(|&count| count == 1)
                })
            })
    }

    #[test]
    fn the_squares_of_order_ten_are_orthogonal() {
        let rows = pairwise_array(10, 4).unwrap();
        assert!(is_orthogonal_array(&rows, 10));
    }

    #[test]
    fn products_over_the_factors_are_orthogonal_arrays() {
        // (q, the columns its poorest factor allows)
        for (q, columns) in [(6, 3), (10, 4), (12, 4), (14, 3), (15, 4), (20, 5), (30, 4)] {
            let rows = pairwise_over_components(q, &vec![q; columns]).unwrap();
            assert!(is_orthogonal_array(&rows, q), "q={q}");
            assert!(
                pairwise_over_components(q, &vec![q; columns + 1]).is_none(),
                "q={q} has no array of {} columns here",
                columns + 1
            );
        }
    }

    #[test]
    fn fields_have_inverses_and_distribute() {
        for q in [2, 3, 4, 5, 7, 8, 9, 16, 25, 27] {
            let f = Field::new(q).unwrap();
            for a in 1..q {
                assert!(
                    (1..q).any(|b| f.mul(a, b) == 1),
                    "q={q}: {a} has no inverse"
                );
                for b in 0..q {
                    for c in 0..q {
                        assert_eq!(
                            f.mul(a, f.add(b, c)),
                            f.add(f.mul(a, b), f.mul(a, c)),
                            "q={q}"
                        );
                    }
                }
            }
        }
        assert!(Field::new(6).is_none());
        assert!(Field::new(10).is_none());
    }

    #[test]
    fn binary_bounds() {
        // The fewest rows for 2^k pairwise: 6 rows up to 10 columns, 8 up to 35, 10 up to 126.
        assert_eq!(binary_words(&[2; 10]).len(), 6);
        assert_eq!(binary_words(&[2; 11]).len(), 7);
        assert_eq!(binary_words(&[2; 30]).len(), 8);
        assert_eq!(binary_words(&[2; 100]).len(), 10);
    }
}
