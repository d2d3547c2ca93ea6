//! Where data becomes a published figure: OpenDP's measurements, and
//! nothing else. A measurement takes the rows of one table (each row the
//! index of the cell it falls in, at most `d_in` rows per person), counts
//! them into every cell with `make_count_by_categories` and adds discrete
//! Gaussian noise with `make_gaussian`, under zero-concentrated
//! differential privacy. Its privacy loss is OpenDP's privacy map at
//! `d_in`; losses add up by OpenDP's zCDP composition.
//!
//! Release code reaches data only through [`Mechanism::measure`], so a
//! test can put a mechanism in its place that ignores the rows and show
//! that nothing published depends on the data any other way.

use opendp::accuracy::discrete_gaussian_scale_to_accuracy;
use opendp::combinators::{CompositionMeasure, ConcentratedMeasure};
use opendp::domains::{AtomDomain, VectorDomain};
use opendp::measurements::make_gaussian;
use opendp::measures::ZeroConcentratedDivergence;
use opendp::metrics::{L2Distance, SymmetricDistance};
use opendp::transformations::make_count_by_categories;

/// δ at which a release's ρ is also stated as (ε, δ).
pub const DELTA: f64 = 1e-6;

/// What went wrong inside OpenDP (a bad parameter, too little entropy).
#[derive(Debug, thiserror::Error)]
#[error("OpenDP: {0}")]
pub struct MechanismError(String);

impl From<opendp::error::Error> for MechanismError {
    fn from(e: opendp::error::Error) -> MechanismError {
        MechanismError(format!(
            "{:?}: {}",
            e.variant,
            e.message.unwrap_or_default()
        ))
    }
}

/// The noisy counts of one measurement and what they cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// One count per cell, in cell order.
    pub counts: Vec<i64>,
    /// zCDP ρ spent, from the measurement's privacy map.
    pub rho: f64,
    /// The discrete Gaussian's scale σ.
    pub scale: f64,
}

/// Turns one table's rows into published counts.
pub trait Mechanism: Sync {
    /// `rows` holds, for every row of the data, the index of its cell
    /// (below `cells`); no person has more than `d_in` rows. Spends about
    /// `rho`.
    fn measure(
        &self,
        cells: u32,
        rows: Vec<u32>,
        d_in: u32,
        rho: f64,
    ) -> Result<Measured, MechanismError>;
}

/// Counting by category, then the discrete Gaussian mechanism.
pub struct GaussianCounts;

impl Mechanism for GaussianCounts {
    fn measure(
        &self,
        cells: u32,
        rows: Vec<u32>,
        d_in: u32,
        rho: f64,
    ) -> Result<Measured, MechanismError> {
        let scale = scale_for(d_in, rho)?;
        let count = make_count_by_categories::<L2Distance<i64>, u32, i64>(
            VectorDomain::new(AtomDomain::default()),
            SymmetricDistance,
            (0..cells).collect(),
            false,
        )?;
        let noise = make_gaussian::<_, _, ZeroConcentratedDivergence>(
            count.output_domain.clone(),
            count.output_metric.clone(),
            scale,
            None,
        )?;
        let measurement = (count >> noise)?;
        let rho = measurement.map(&d_in)?;
        let counts = measurement.invoke(&rows)?;
        Ok(Measured { counts, rho, scale })
    }
}

/// The noise scale that spends `rho` on counts where one person moves at
/// most `d_in` rows: an L2 sensitivity of `d_in` (OpenDP's stability map of
/// counting by category), so σ = d_in / √(2ρ).
pub fn scale_for(d_in: u32, rho: f64) -> Result<f64, MechanismError> {
    if !(rho.is_finite() && rho > 0.0) {
        return Err(MechanismError(format!("rho must be positive, not {rho}")));
    }
    Ok(f64::from(d_in) / (2.0 * rho).sqrt())
}

/// The total privacy loss of several measurements on the same people
/// (zCDP composition: the ρ add up).
pub fn compose(rhos: Vec<f64>) -> Result<f64, MechanismError> {
    if rhos.is_empty() {
        return Ok(0.0);
    }
    Ok(ZeroConcentratedDivergence.compose(rhos)?)
}

/// ρ stated as ε at [`DELTA`]: (ε, δ)-differential privacy.
pub fn epsilon(rho: f64) -> Result<f64, MechanismError> {
    if rho == 0.0 {
        return Ok(0.0);
    }
    let profile = ZeroConcentratedDivergence::convert(rho)?;
    Ok(profile.epsilon(DELTA)?)
}

/// The 95 % margin of a sum of independent noises whose variances add to
/// `variance`: the error that the noise stays within 95 times in 100,
/// taken as one discrete Gaussian of that variance.
pub fn margin_95(variance: f64) -> Result<u64, MechanismError> {
    if variance <= 0.0 {
        return Ok(0);
    }
    let margin = discrete_gaussian_scale_to_accuracy(variance.sqrt(), 0.05)?;
    // An integer in f64 (OpenDP returns a whole number of counts).
    Ok(margin.max(0.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_privacy_map_is_the_zcdp_loss_of_the_gaussian() {
        // d_in rows per person, σ = d_in/√(2ρ): the map gives ρ back.
        for (d_in, rho) in [(1, 0.05), (3, 0.5), (1, 2.0)] {
            let measured = GaussianCounts
                .measure(4, vec![0, 1, 1, 3], d_in, rho)
                .unwrap();
            assert_eq!(measured.counts.len(), 4);
            assert!((measured.rho - rho).abs() < rho * 1e-9, "{measured:?}");
        }
        assert!(GaussianCounts.measure(4, vec![0], 1, 0.0).is_err());
    }

    #[test]
    fn noise_is_centred_on_the_true_counts() {
        // 2 000 cells of 5: the mean of the noisy counts is 5 within a
        // margin far wider than chance alone would need (σ ≈ 3.2).
        let cells = 2000u32;
        let rows: Vec<u32> = (0..cells).flat_map(|c| [c; 5]).collect();
        let measured = GaussianCounts.measure(cells, rows, 1, 0.05).unwrap();
        let mean = measured.counts.iter().sum::<i64>() as f64 / f64::from(cells);
        assert!((mean - 5.0).abs() < 0.5, "mean {mean}");
        assert!(
            measured.counts.iter().any(|&c| c != 5),
            "every count noised"
        );
    }

    #[test]
    fn losses_compose_and_convert() {
        assert_eq!(compose(vec![0.25, 0.5]).unwrap(), 0.75);
        assert_eq!(compose(vec![]).unwrap(), 0.0);
        // ε = ρ + 2√(ρ ln(1/δ)) is an upper bound of the exact conversion.
        let rho: f64 = 0.25;
        let eps = epsilon(rho).unwrap();
        assert!(eps > 0.0 && eps <= rho + 2.0 * (rho * (1.0 / DELTA).ln()).sqrt());
    }

    #[test]
    fn margins_grow_with_the_noise() {
        assert_eq!(margin_95(0.0).unwrap(), 0);
        let one = margin_95(4.0).unwrap();
        let many = margin_95(400.0).unwrap();
        assert!((3..=5).contains(&one), "{one}");
        assert!((38..=41).contains(&many), "{many}");
    }
}
