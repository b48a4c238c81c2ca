// The SOAP family: descriptors built from the density expansion c_{k lm} of density_expansion.hpp.
//   spherical_expansion    c_{k lm} itself (nu = 1, rotationally covariant)
//   soap_radial_spectrum   c_{k 00} (nu = 1, two-body)
//   soap_power_spectrum    p_{k k' l} = pi sqrt(8/(2l+1)) sum_m c_{klm} c_{k'lm} (nu = 2)
//   soap_bispectrum        b = sum_{m1 m2 m3} G^{l1 l2 l3}_{m1 m2 m3} c_{k1 l1 m1} c_{k2 l2 m2} c_{k3 l3 m3} (nu = 3)
// Gradients are always the chain rule through dc/dr; optional normalisation divides each
// environment's vector by its Euclidean norm.
#pragma once

#include "descriptors/density_expansion.hpp"
#include "descriptors/descriptor.hpp"

#include <string>
#include <vector>

namespace atomfp {

class SoapFamilyDescriptor : public Descriptor {
public:
    std::string type() const override { return type_; }
    int64_t feature_count() const override { return n_features_; }
    double cutoff() const override { return expansion_.cutoff(); }
    json parameters() const override;
    bool handles_species(int32_t z) const override { return expansion_.handles_species(z); }
    std::unique_ptr<Workspace> make_workspace() const override;
    bool overwrites_neighbour_blocks() const override { return true; }
    void compute_environment(const Environment& environment, double* features, double* neighbour_gradients,
                             Workspace& workspace) const final;
    // Contraction through the coefficients: dE/dF -> dE/dc -> per-neighbour 3-vectors from the
    // expansion's factors, O(channels x (l_max + 1)^2) per neighbour and no feature gradient.
    bool has_direct_contraction() const override { return true; }
    void contract_environment(const Environment& environment, const double* weights, double* features,
                              double* contracted, Workspace& workspace) const final;

    // Projections that use the sparsity of the unnormalised blocks: a neighbour feeds only its
    // species' channels, so its block is zero on every feature without one of them (for a power
    // spectrum of two species, the pairs of the other species alone), and its rows are multiplied
    // with those columns of S only. The normalisation is applied to the projections afterwards.
    std::unique_ptr<Projection> make_projection(int64_t m, const double* S) const override;
    void project_environments(int64_t count, const Environment* environments, const Projection& projection,
                              double* rows, double* along, Workspace& workspace) const override;

    const DensityExpansion& expansion() const { return expansion_; }

protected:
    class SoapWorkspace;
    class SpeciesProjection;

    // True if feature f is built from at least one of the channels [first, first + count).
    virtual bool feature_uses_channels(int64_t f, int first, int count) const = 0;

    SoapFamilyDescriptor(const json& spec, std::string type, bool angular, bool normalize_by_default);

    // p / |p| in place when normalising and p is not zero; returns 1/|p|, or 0 if nothing was divided.
    double normalise_features(double* features) const;

    // Features from the coefficients c [lm][channel]; if neighbour_blocks is not NULL, also each
    // neighbour's gradient block [3][n_features] (overwritten) from the factors in the workspace.
    virtual void invariants(const double* coefficients, int64_t n_neighbours, double* features,
                            double* const* neighbour_blocks, SoapWorkspace& workspace) const = 0;

    // dE/dc [lm][channel] (overwritten) = sum_f weights[f] d(unnormalised features_f)/dc.
    virtual void coefficient_weights(const double* coefficients, const double* weights, double* dE_dc,
                                     SoapWorkspace& workspace) const = 0;

    std::string type_;
    DensityExpansion expansion_;
    bool normalize_;
    int64_t n_features_ = 0;
};

class SphericalExpansionDescriptor final : public SoapFamilyDescriptor {
public:
    explicit SphericalExpansionDescriptor(const json& spec);
    std::string feature_label(int64_t index) const override;

private:
    bool feature_uses_channels(int64_t f, int first, int count) const override;
    void invariants(const double* c, int64_t n, double* features, double* const* blocks,
                    SoapWorkspace& workspace) const override;
    void coefficient_weights(const double* c, const double* weights, double* dE_dc, SoapWorkspace& workspace) const override;
};

class SoapRadialSpectrum final : public SoapFamilyDescriptor {
public:
    explicit SoapRadialSpectrum(const json& spec);
    std::string feature_label(int64_t index) const override;

private:
    bool feature_uses_channels(int64_t f, int first, int count) const override;
    void invariants(const double* c, int64_t n, double* features, double* const* blocks,
                    SoapWorkspace& workspace) const override;
    void coefficient_weights(const double* c, const double* weights, double* dE_dc, SoapWorkspace& workspace) const override;
};

class SoapPowerSpectrum final : public SoapFamilyDescriptor {
public:
    explicit SoapPowerSpectrum(const json& spec);
    std::string feature_label(int64_t index) const override;

private:
    bool feature_uses_channels(int64_t f, int first, int count) const override;
    void invariants(const double* c, int64_t n, double* features, double* const* blocks,
                    SoapWorkspace& workspace) const override;
    void power_spectrum(const double* c, int64_t n, double* features, double* const* blocks,
                        SoapWorkspace& workspace) const;
    void coefficient_weights(const double* c, const double* weights, double* dE_dc, SoapWorkspace& workspace) const override;
    std::vector<std::pair<int, int>> pairs_;  // channel pairs k <= k'
    std::vector<double> scale_;               // [pair][l]: pi sqrt(8/(2l+1)), times sqrt(2) off the diagonal
    std::vector<double> padded_scale_;        // the same as [pair][padded_l_], zero in the padding
    int padded_l_ = 0;                        // l_max + 1 rounded up to a whole number of 4-wide vectors
};

// Real Gaunt coefficients int Y_{l1 m1} Y_{l2 m2} Y_{l3 m3} dOmega for l1 <= l2 <= l3 <= max_angular,
// nonzero entries only, computed by exact quadrature on the sphere.
struct GauntEntry {
    int lm1, lm2, lm3;  // indices l*l + l + m
    double value;
};
std::vector<GauntEntry> real_gaunt_coefficients(int l1, int l2, int l3);

// The same for every l <= max_l from one quadrature (exact to degree 3 max_l), whose harmonics are
// evaluated once: what a bispectrum with many couplings needs.
class RealGauntTable {
public:
    explicit RealGauntTable(int max_l);
    std::vector<GauntEntry> coefficients(int l1, int l2, int l3) const;

private:
    int max_l_ = 0, points_ = 0;
    std::vector<double> weighted_, harmonics_;  // [lm][point]: w_q Y_lm(q) and Y_lm(q)
};

class SoapBispectrum final : public SoapFamilyDescriptor {
public:
    explicit SoapBispectrum(const json& spec);
    std::string feature_label(int64_t index) const override;
    // Contracted from its gradient blocks for now (the driver's fallback).
    bool has_direct_contraction() const override { return false; }

private:
    bool feature_uses_channels(int64_t f, int first, int count) const override;
    void invariants(const double* c, int64_t n, double* features, double* const* blocks,
                    SoapWorkspace& workspace) const override;
    void coefficient_weights(const double* c, const double* weights, double* dE_dc, SoapWorkspace& workspace) const override;

    struct Triple {
        int k[3], l[3];
        double weight;  // sqrt of the number of distinct permutations of the three (k, l) pairs
        int coupling;   // index into couplings_
        int64_t partial_row[3];  // row of db/dc_{k_i l_i m} (m = -l_i..l_i) in the partials of l_i
    };
    // The partial derivatives are grouped by l: partials_l is [rows of l][2l+1], and row r of l
    // belongs to feature row_feature_[l][r] through its channel row_channel_[l][r].
    std::vector<std::vector<int64_t>> row_feature_;
    std::vector<std::vector<int>> row_channel_;
    std::vector<int64_t> partials_offset_;  // start of each l's block in the partials buffer
    int64_t partials_size_ = 0;
    std::vector<Triple> triples_;
    std::vector<std::vector<GauntEntry>> couplings_;
};

}  // namespace atomfp
