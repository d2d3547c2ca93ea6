//! Small-cell suppression for published tables of counts.
//!
//! Primary: every cell from 1 to k−1 is hidden. Complementary: a *line* is
//! the set of cells that differ in one dimension only (a row or a column of
//! a two-way table); its total is what a coarser table publishes. A line
//! with exactly one hidden cell would give that cell away by subtraction, so
//! while any line has exactly one hidden cell and another non-zero visible
//! one, the smallest non-zero visible cell of that line is hidden too. Zero
//! cells stay visible: a zero is a fact, and hiding it protects nothing.
//! A line left with one hidden cell and no other non-zero cell has a total
//! equal to that cell, below k, which a coarser table hides in turn.
//!
//! Limits: this protects against the totals of each line (one dimension
//! summed out), the margins an analyst gets from coarser queries; it does
//! not solve the general cell-suppression problem across every combination
//! of tables an analyst could request (the rule runs per answer), and a
//! complementary cell (k or more) may sometimes be worked out: what the
//! property test holds is that no count from 1 to k−1 follows from a line
//! total published by the coarser table.

use std::collections::BTreeMap;

/// One cell: its coordinates (one value per dimension) and count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub key: Vec<String>,
    pub count: u64,
    pub suppressed: bool,
}

/// Marks the cells to hide. `cells` is a full grid: every combination of
/// the values seen in each dimension, zeros included.
pub fn suppress(cells: &mut [Cell], dimensions: usize, k: u64) {
    for cell in cells.iter_mut() {
        cell.suppressed = cell.count > 0 && cell.count < k;
    }
    loop {
        let mut changed = false;
        for dimension in 0..dimensions {
            for members in lines(cells, dimension) {
                let hidden = members.iter().filter(|&&i| cells[i].suppressed).count();
                if hidden != 1 {
                    continue;
                }
                // A good partner can itself be covered in each of its other
                // lines (they hold another non-zero cell); among those, the
                // smallest. A partner alone in another line would be given
                // away by that line's total.
                let coverable = |i: usize| {
                    (0..dimensions).filter(|&d| d != dimension).all(|d| {
                        line_of(cells, i, d)
                            .iter()
                            .any(|&j| j != i && cells[j].count > 0)
                    })
                };
                let partner = members
                    .iter()
                    .copied()
                    .filter(|&i| !cells[i].suppressed && cells[i].count > 0)
                    .min_by_key(|&i| (!coverable(i), cells[i].count, cells[i].key.clone()));
                if let Some(i) = partner {
                    cells[i].suppressed = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// The cells of the line along `dimension` that holds cell `i`.
fn line_of(cells: &[Cell], i: usize, dimension: usize) -> Vec<usize> {
    let same = |j: usize| {
        cells[j]
            .key
            .iter()
            .zip(&cells[i].key)
            .enumerate()
            .all(|(d, (a, b))| d == dimension || a == b)
    };
    (0..cells.len()).filter(|&j| same(j)).collect()
}

/// The lines along `dimension`: cell indexes grouped by every other
/// coordinate.
pub fn lines(cells: &[Cell], dimension: usize) -> Vec<Vec<usize>> {
    let mut groups: BTreeMap<Vec<&str>, Vec<usize>> = BTreeMap::new();
    for (i, cell) in cells.iter().enumerate() {
        let rest: Vec<&str> = cell
            .key
            .iter()
            .enumerate()
            .filter(|(d, _)| *d != dimension)
            .map(|(_, v)| v.as_str())
            .collect();
        groups.entry(rest).or_default().push(i);
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn grid(counts: &[u64], width: usize) -> Vec<Cell> {
        counts
            .iter()
            .enumerate()
            .map(|(i, &count)| Cell {
                key: vec![format!("r{}", i / width), format!("c{}", i % width)],
                count,
                suppressed: false,
            })
            .collect()
    }

    #[test]
    fn a_lone_small_cell_takes_a_partner_and_zero_stays_visible() {
        let mut cells = grid(&[3, 40, 0, 50, 60, 70], 3);
        suppress(&mut cells, 2, 11);
        let hidden: Vec<u64> = cells
            .iter()
            .filter(|c| c.suppressed)
            .map(|c| c.count)
            .collect();
        // 3 is hidden; its row needs a partner (40), its column too (50),
        // and then 40's column and 50's row need one more (60).
        assert_eq!(hidden, vec![3, 40, 50, 60]);
        assert!(!cells[2].suppressed, "zero stays zero");
    }

    proptest! {
        #[test]
        fn no_small_cell_is_published_and_no_hidden_cell_follows_from_a_line_total(
            width in 1usize..5,
            rows in 1usize..5,
            seed in proptest::collection::vec(0u64..30, 25),
            k in 2u64..15,
        ) {
            let counts: Vec<u64> = seed.iter().take(width * rows).copied().collect();
            prop_assume!(counts.len() == width * rows);
            let mut cells = grid(&counts, width);
            suppress(&mut cells, 2, k);
            for cell in &cells {
                prop_assert!(cell.suppressed || cell.count == 0 || cell.count >= k);
                prop_assert!(!(cell.suppressed && cell.count == 0));
            }
            // The totals an analyst can see are the cells of the coarser
            // table (this dimension summed out), published with the same
            // rule. A line with exactly one hidden cell must have its total
            // hidden there, or that cell would follow by subtraction.
            for dimension in 0..2 {
                let groups = lines(&cells, dimension);
                let mut coarser: Vec<Cell> = groups
                    .iter()
                    .map(|line| Cell {
                        key: cells[line[0]]
                            .key
                            .iter()
                            .enumerate()
                            .filter(|(d, _)| *d != dimension)
                            .map(|(_, v)| v.clone())
                            .collect(),
                        count: line.iter().map(|&i| cells[i].count).sum(),
                        suppressed: false,
                    })
                    .collect();
                suppress(&mut coarser, 1, k);
                for (line, total) in groups.iter().zip(&coarser) {
                    let hidden: Vec<usize> =
                        line.iter().copied().filter(|&i| cells[i].suppressed).collect();
                    // What must never follow is a small count; a hidden
                    // complement (k or more) that follows discloses nothing
                    // small by itself.
                    if hidden.len() == 1 && cells[hidden[0]].count < k {
                        prop_assert!(
                            total.suppressed,
                            "a line total of {} is published while one cell of it is hidden",
                            total.count
                        );
                    }
                }
            }
        }
    }
}
