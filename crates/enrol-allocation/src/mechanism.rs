//! The two mechanisms over the index form. Both return, per applicant (input
//! index), the school index it holds or [`NONE`].

use std::collections::BinaryHeap;

use crate::prepare::{NONE, Prepared};

/// Student-proposing deferred acceptance (Gale-Shapley). Each school holds its
/// best applicants so far in a max-heap of ranks, so the one to let go is on
/// top; the result does not depend on the order proposals are made in.
pub(crate) fn deferred_acceptance(prep: &Prepared) -> Vec<u32> {
    let n = prep.applicants();
    // Next choice each applicant will propose to, as an absolute choice index.
    let mut next: Vec<u32> = prep.choice_start[..n].to_vec();
    let mut held: Vec<BinaryHeap<u32>> = (0..prep.schools())
        .map(|s| {
            let listed = (prep.school_start[s + 1] - prep.school_start[s]) as usize;
            BinaryHeap::with_capacity(listed.min(prep.capacity[s] as usize))
        })
        .collect();
    let mut free: Vec<u32> = (0..n as u32).rev().collect();
    while let Some(applicant) = free.pop() {
        let a = applicant as usize;
        let end = prep.choice_start[a + 1];
        while next[a] < end {
            let g = next[a] as usize;
            next[a] += 1;
            let s = prep.choice_school[g] as usize;
            let rank = prep.choice_rank[g];
            let heap = &mut held[s];
            if heap.len() < prep.capacity[s] as usize {
                heap.push(rank);
                break;
            }
            if let Some(mut worst) = heap.peek_mut()
                && rank < *worst
            {
                let displaced = prep.at_rank(s as u32, *worst);
                *worst = rank;
                free.push(displaced);
                break;
            }
        }
    }
    let mut assigned = vec![NONE; n];
    for (s, heap) in held.iter().enumerate() {
        for &rank in heap {
            assigned[prep.at_rank(s as u32, rank) as usize] = s as u32;
        }
    }
    assigned
}

/// Immediate acceptance (the Boston mechanism): in round k every unplaced
/// applicant applies to its k-th choice, and each school keeps the best of that
/// round's applicants up to its remaining seats, for good.
pub(crate) fn immediate_acceptance(prep: &Prepared) -> Vec<u32> {
    let n = prep.applicants();
    let mut assigned = vec![NONE; n];
    let mut remaining = prep.capacity.clone();
    let mut unplaced: Vec<u32> = (0..n as u32).collect();
    // (school << 32 | rank): sorting groups a round's applications by school, best first.
    let mut applications: Vec<u64> = Vec::with_capacity(n);
    let mut round = 0usize;
    loop {
        unplaced.retain(|&a| assigned[a as usize] == NONE && prep.choices(a).len() > round);
        if unplaced.is_empty() {
            break;
        }
        applications.clear();
        applications.extend(unplaced.iter().map(|&a| {
            let g = prep.choices(a).start + round;
            (u64::from(prep.choice_school[g]) << 32) | u64::from(prep.choice_rank[g])
        }));
        applications.sort_unstable();
        for &application in &applications {
            let s = (application >> 32) as u32;
            let rank = application as u32;
            if remaining[s as usize] > 0 {
                remaining[s as usize] -= 1;
                assigned[prep.at_rank(s, rank) as usize] = s;
            }
        }
        round += 1;
    }
    assigned
}
