// The posterior variance of a sparse-GPR model's energies in the projected-process (deterministic
// training conditional) approximation the trainer fits (Seeger, Williams & Lawrence 2003;
// Quiñonero-Candela & Rasmussen 2005), with the local energies of each species an independent GP
// of prior covariance k(x, x') (eV²) whose mean is given by the reference weights:
//
//   Var e_c = s² [ k(c,c) − k_cᵀ K̃_b⁻¹ k_c + k̃_cᵀ (RᵀR)⁻¹ k̃_c ]
//   Var E   = s² [ Σ_b ( Σ_{c,c' in b} k(c,c') − κ_bᵀ K̃_b⁻¹ κ_b ) + κᵀ (RᵀR)⁻¹ κ ],  κ_b = Σ_{c in b} k_c
//
// k_c: the kernel of centre c against the references of its block b; k̃_c the same placed at the
// block's columns of all M references; K̃_b = K_MM,b + jitter (the trainer's prior rows); R the
// triangular factor of the fit's weighted least squares, RᵀR = K̃ + Φᵀ Σ⁻¹ Φ over every data row;
// s² a calibration of the prior scale (1 as fitted; `atomfp fit --cv` fits it on held-out data).
// The first two terms are what the references leave unexplained of the centre's prior variance,
// the last the uncertainty of the weights given the data.
#pragma once

#include <cstdint>
#include <vector>

namespace atomfp {

class PosteriorCovariance {
public:
    // prior_factors[b]: the Cholesky factor L_b (row-major lower triangle, M_b x M_b) of K̃_b;
    // weight_factor: R (row-major upper triangle, M x M, M = Σ M_b, blocks' columns in block order).
    // Throws Error(invalid_argument) for sizes that do not match, non-finite entries, a zero
    // diagonal or a scale that is not positive.
    PosteriorCovariance(std::vector<std::vector<double>> prior_factors, std::vector<double> weight_factor, double scale = 1.0);

    int64_t size() const { return size_; }
    std::size_t n_blocks() const { return prior_factors_.size(); }
    int64_t block_size(std::size_t b) const { return offsets_[b + 1] - offsets_[b]; }
    double scale() const { return scale_; }
    const std::vector<double>& prior_factor(std::size_t b) const { return prior_factors_[b]; }
    const std::vector<double>& weight_factor() const { return weight_factor_; }
    PosteriorCovariance with_scale(double scale) const;

    // Var e_c [n] of n centres of block b from their kernel rows K [n][M_b] against the block's
    // references and their prior variances k(c,c) [n]; with `gradient` not NULL also
    // ∂Var e_c/∂k_c [n][M_b] = 2 s² ( [(RᵀR)⁻¹ k̃_c]_b − K̃_b⁻¹ k_c ), the prior term's own
    // derivative excluded.
    void centre_variances(std::size_t b, int64_t n, const double* K, const double* prior, double* out,
                          double* gradient = nullptr) const;
    // Var E of a structure from κ_b [M_b] per block and Σ_{c,c' in b} k(c,c') per block.
    double structure_variance(const std::vector<std::vector<double>>& kernel_sums, const std::vector<double>& prior_sums) const;

private:
    std::vector<std::vector<double>> prior_factors_;
    std::vector<double> weight_factor_;
    std::vector<int64_t> offsets_;
    int64_t size_ = 0;
    double scale_ = 1.0;
};

}  // namespace atomfp
