#include "descriptors/density_expansion.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/scratch.hpp"
#include "core/simd.hpp"
#include "core/small_kernels.hpp"

#include <algorithm>
#include <cmath>

namespace atomfp {

namespace {

const double four_pi = 4.0 * M_PI;
constexpr int max_gto_radial = 20;
constexpr int max_dvr_radial = 128;

int max_radial_of(const std::string& basis) { return basis == "gto" ? max_gto_radial : max_dvr_radial; }

// A rows x cols matrix given as nested JSON arrays of finite numbers, flattened row-major.
std::vector<double> read_matrix(const json& value, std::size_t rows, std::size_t cols, const std::string& name) {
    auto malformed = [&](const std::string& why) {
        fail(Status::json_error, "malformed contraction matrix '", name, "': ", why, " (expected ", rows, " rows of ",
             cols, " numbers)");
    };
    if (!value.is_array() || value.size() != rows) malformed("wrong number of rows");
    std::vector<double> out;
    out.reserve(rows * cols);
    for (const json& row : value) {
        if (!row.is_array() || row.size() != cols) malformed("a row has the wrong length");
        for (const json& x : row) {
            if (!x.is_number() || !std::isfinite(x.get<double>())) malformed("an entry is not a finite number");
            out.push_back(x.get<double>());
        }
    }
    return out;
}

}  // namespace

std::shared_ptr<const RadialIntegral> make_primitive_radial_integral(const std::string& name, int n_radial,
                                                                    int max_angular, double cutoff, double gaussian_width) {
    if (name == "gto") return std::make_shared<GtoRadialIntegral>(n_radial, max_angular, cutoff, gaussian_width);
    if (name == "dvr") return std::make_shared<DvrRadialIntegral>(n_radial, max_angular, cutoff, gaussian_width);
    fail(Status::json_error, "unknown primitive radial basis \"", name, "\" (known: \"gto\", \"dvr\")");
}

DensityExpansion::DensityExpansion(SpecReader& reader, bool angular) : cutoff_(CutoffFunction::Kind::cosine, 1.0) {
    species_ = SpeciesList::read(reader);
    const double cutoff = reader.number("cutoff", 5.0, 0.0, 1e3, true);
    cutoff_width_ = reader.number("cutoff_width", 0.5, 0.0, 1e3, true);
    if (cutoff_width_ > cutoff) {
        fail(Status::json_error, "key 'cutoff_width' = ", cutoff_width_, " exceeds 'cutoff' = ", cutoff);
    }
    cutoff_ = CutoffFunction(CutoffFunction::Kind::cosine, cutoff, 1.0 - cutoff_width_ / cutoff);
    gaussian_width_ = reader.number("atomic_gaussian_width", 0.5, 0.0, 1e2, true);
    // Spline construction grows with the square of this ratio (7 s at 400, minutes beyond).
    if (cutoff / gaussian_width_ > max_cutoff_over_width) {
        fail(Status::json_error, "'cutoff' / 'atomic_gaussian_width' = ", cutoff / gaussian_width_, " exceeds ",
             max_cutoff_over_width, ": the radial splines would take minutes to build");
    }
    angular_ = angular;
    max_angular_ = angular ? static_cast<int>(reader.integer("max_angular", 6, 0, max_spherical_harmonic_degree)) : 0;
    center_weight_ = reader.number("center_atom_weight", 1.0, -1e6, 1e6);
    spline_accuracy_ = reader.number("spline_accuracy", 1e-8, 1e-13, 1e-2);
    if (reader.has("radial_scaling")) {
        SpecReader scaling = reader.object("radial_scaling");
        scaling_r0_ = scaling.number("r0", std::nullopt, 0.0, 1e3, true);
        scaling_exponent_ = scaling.number("exponent", std::nullopt, 0.0, 64.0, true);
        scaling.finish();
        radial_scaling_ = true;
    }
    read_radial_basis(reader);
    read_pair_cutoffs(reader);
    const int spline_functions = basis_name_ == "optimal" ? primitive_max_radial_ : n_radial_;
    const double work = static_cast<double>(spline_functions) * (max_angular_ + 1) * cutoff / gaussian_width_;
    if (work > max_spline_work) {
        fail(Status::json_error, "the radial splines would take minutes to build: radial functions (", spline_functions,
             ") x (max_angular + 1) x cutoff / atomic_gaussian_width = ", work, " exceeds ", max_spline_work);
    }
}

void DensityExpansion::read_radial_basis(SpecReader& reader) {
    basis_name_ = reader.string("radial_basis", std::string("gto"), {"gto", "dvr", "optimal"});
    const int n_species = static_cast<int>(species_.size());
    if (basis_name_ != "optimal") {
        n_radial_ = static_cast<int>(reader.integer("max_radial", 8, 1, max_radial_of(basis_name_)));
        n_channels_ = n_species * n_radial_;
        return;
    }
    if (!reader.has("optimal_basis")) {
        fail(Status::json_error, "key 'radial_basis' = \"optimal\" needs the key 'optimal_basis' (see 'atomfp optimize-basis')");
    }
    n_radial_ = static_cast<int>(reader.integer("max_radial", std::nullopt, 1, max_dvr_radial));
    SpecReader optimal = reader.object("optimal_basis");
    primitive_name_ = optimal.string("primitive_basis", std::nullopt, {"gto", "dvr"});
    primitive_max_radial_ =
        static_cast<int>(optimal.integer("primitive_max_radial", std::nullopt, 1, max_radial_of(primitive_name_)));
    mixed_ = optimal.string("mixing", std::string("separate"), {"separate", "mixed"}) == "mixed";
    if (!mixed_ && n_radial_ > primitive_max_radial_) {
        fail(Status::json_error, "key 'max_radial' = ", n_radial_, " exceeds 'optimal_basis.primitive_max_radial' = ",
             primitive_max_radial_);
    }
    if (mixed_ && n_radial_ > n_species * primitive_max_radial_) {
        fail(Status::json_error, "key 'max_radial' = ", n_radial_, " exceeds the ", n_species * primitive_max_radial_,
             " mixed (species, radial) channels of the primitive basis");
    }
    contraction_ = optimal.value("contraction");
    optimal.finish();
    n_channels_ = mixed_ ? n_radial_ : n_species * n_radial_;
}

void DensityExpansion::read_pair_cutoffs(SpecReader& reader) {
    const int n_species = static_cast<int>(species_.size());
    pair_cutoffs_.assign(static_cast<std::size_t>(n_species) * n_species, cutoff_);
    if (!reader.has("pair_cutoffs")) return;
    pair_cutoffs_spec_ = json::object();
    reader.element_pairs("pair_cutoffs", [&](int32_t za, int32_t zb, SpecReader& entry) {
        const std::string name = element_symbol(za) + "-" + element_symbol(zb);
        if (!species_.contains(za) || !species_.contains(zb)) {
            fail(Status::json_error, "key '", reader.key_name("pair_cutoffs"), "' names ", name, ", not a pair of the descriptor's species");
        }
        const double rc = entry.number("cutoff", std::nullopt, 0.0, cutoff_.cutoff(), true);
        const double width = entry.number("cutoff_width", std::min(cutoff_width_, rc), 0.0, rc, true);
        const CutoffFunction pair(CutoffFunction::Kind::cosine, rc, 1.0 - width / rc);
        const int a = species_.index(za), b = species_.index(zb);
        pair_cutoffs_[static_cast<std::size_t>(a) * n_species + b] = pair;
        pair_cutoffs_[static_cast<std::size_t>(b) * n_species + a] = pair;
        pair_cutoffs_spec_[name] = {{"cutoff", rc}, {"cutoff_width", width}};
    });
}

void DensityExpansion::build() {
    harmonics_ = SphericalHarmonics(max_angular_);
    const double rc = cutoff_.cutoff();
    const int L1 = max_angular_ + 1;
    const int n_species = static_cast<int>(species_.size());
    if (basis_name_ != "optimal") {
        auto exact = make_primitive_radial_integral(basis_name_, n_radial_, max_angular_, rc, gaussian_width_);
        auto spline = std::make_shared<const RadialSpline>(*exact, rc, spline_accuracy_);
        splines_.assign(n_species, spline);
        for (int a = 0; a < n_species; ++a) channel_offset_.push_back(a * n_radial_);
    } else {
        const int n_primitive = primitive_max_radial_;
        auto primitive = make_primitive_radial_integral(primitive_name_, n_primitive, max_angular_, rc, gaussian_width_);
        const std::string base = "optimal_basis.contraction";
        auto expect_array = [&](const json& v, std::size_t size, const std::string& name, const char* what) {
            if (!v.is_array() || v.size() != size) {
                fail(Status::json_error, "malformed contraction matrix '", name, "': expected an array of ", size, " ", what);
            }
        };
        for (int a = 0; a < n_species; ++a) {
            std::vector<std::vector<double>> per_l(L1);
            for (int l = 0; l < L1; ++l) {
                if (mixed_) {
                    expect_array(contraction_, L1, base, "matrices (one per l)");
                    const std::string name = base + "[" + std::to_string(l) + "]";
                    std::vector<double> full = read_matrix(contraction_[l], n_radial_, static_cast<std::size_t>(n_species) * n_primitive, name);
                    for (int q = 0; q < n_radial_; ++q) {
                        const double* row = full.data() + (static_cast<std::size_t>(q) * n_species + a) * n_primitive;
                        per_l[l].insert(per_l[l].end(), row, row + n_primitive);
                    }
                } else {
                    expect_array(contraction_, n_species, base, "lists (one per species)");
                    const std::string outer = base + "[" + std::to_string(a) + "]";
                    expect_array(contraction_[a], L1, outer, "matrices (one per l)");
                    per_l[l] = read_matrix(contraction_[a][l], n_radial_, n_primitive, outer + "[" + std::to_string(l) + "]");
                }
            }
            ContractedRadialIntegral exact(primitive, std::move(per_l), n_radial_);
            splines_.push_back(std::make_shared<const RadialSpline>(exact, rc, spline_accuracy_));
            channel_offset_.push_back(mixed_ ? 0 : a * n_radial_);
        }
    }
    // The centre sits at x = 0, where only l = 0 survives and 4 pi Y_00 = sqrt(4 pi).
    for (int a = 0; a < n_species; ++a) {
        const RadialSpline& spline = *splines_[a];
        std::vector<double> values(spline.n_functions());
        spline.evaluate(0.0, values.data(), nullptr);
        std::vector<double> centre(n_radial_);
        for (int k = 0; k < n_radial_; ++k) centre[k] = std::sqrt(four_pi) * center_weight_ * values[k];  // l = 0 row
        center_contribution_.push_back(std::move(centre));
    }
}

void DensityExpansion::write_parameters(json& out) const {
    out["species"] = species_.atomic_numbers();
    out["cutoff"] = cutoff_.cutoff();
    out["cutoff_width"] = cutoff_width_;
    out["atomic_gaussian_width"] = gaussian_width_;
    out["max_radial"] = n_radial_;
    if (angular_) out["max_angular"] = max_angular_;
    out["center_atom_weight"] = center_weight_;
    out["radial_basis"] = basis_name_;
    out["spline_accuracy"] = spline_accuracy_;
    if (radial_scaling_) out["radial_scaling"] = {{"r0", scaling_r0_}, {"exponent", scaling_exponent_}};
    if (!pair_cutoffs_spec_.is_null()) out["pair_cutoffs"] = pair_cutoffs_spec_;
    if (basis_name_ == "optimal") {
        out["optimal_basis"] = {{"primitive_basis", primitive_name_},
                                {"primitive_max_radial", primitive_max_radial_},
                                {"mixing", mixed_ ? "mixed" : "separate"},
                                {"contraction", contraction_}};
    }
}

std::string DensityExpansion::channel_label(int channel) const {
    if (mixed_) return "q=" + std::to_string(channel);
    return element_symbol(species_[channel / n_radial_]) + ",n=" + std::to_string(channel % n_radial_);
}


ATOMFP_DISPATCHED void DensityExpansion::expand(const Environment& environment, double* coefficients, NeighbourFactors& f,
                              bool with_gradients) const {
    const int LM = lm_size(), L1 = max_angular_ + 1, K = n_channels_, N = n_radial_;
    const int64_t n = environment.size();
    const std::size_t radial_size = static_cast<std::size_t>(L1) * N;
    std::fill(coefficients, coefficients + static_cast<std::size_t>(K) * LM, 0.0);
    const int centre = species_.index(environment.center_species);
    for (int k = 0; k < N; ++k) coefficients[channel_offset_[centre] + k] += center_contribution_[centre][k];
    const CutoffFunction* cutoff_of_species = pair_cutoffs_.data() + static_cast<std::size_t>(centre) * n_species();
    if (n == 0) return;  // the centre alone (the factor buffers may be empty: no pointer arithmetic on them)
    // Radial and angular factors of every neighbour are kept, so that the sum over neighbours
    // below runs with the coefficients in registers.
    const std::size_t slots = static_cast<std::size_t>(n);
    double* radial_all = sized(f.radial, slots * radial_size);
    double* radial_derivative_all = sized(f.radial_derivative, slots * radial_size);
    double* harmonics_all = sized(f.harmonics, slots * LM);
    double* gradients_all = with_gradients ? sized(f.harmonic_gradients, slots * 3 * LM) : nullptr;
    double* unit_all = sized(f.unit, slots * 3);
    if (f.first_channel.size() < slots) f.first_channel.resize(slots);

    for (int64_t j = 0; j < n; ++j) {
        double* R = radial_all + j * radial_size;
        double* dR = radial_derivative_all + j * radial_size;
        double* u = unit_all + 3 * j;
        const int a = species_.index(environment.species[j]);
        const double r = environment.distances[j], inverse_r = 1.0 / r;
        const double* d = &environment.displacements[3 * j];
        u[0] = d[0] * inverse_r;
        u[1] = d[1] * inverse_r;
        u[2] = d[2] * inverse_r;
        double fc, dfc;
        cutoff_of_species[a].evaluate(r, fc, dfc);
        double weight = four_pi * fc, weight_derivative = four_pi * dfc;
        if (radial_scaling_) {
            const double t = std::pow(r / scaling_r0_, scaling_exponent_);
            const double s = 1.0 / (1.0 + t), ds = -scaling_exponent_ * t / r * s * s;
            weight_derivative = four_pi * (dfc * s + fc * ds);
            weight = four_pi * fc * s;
        }
        splines_[a]->evaluate(r, R, with_gradients ? dR : nullptr);
        if (with_gradients) {
            for (std::size_t q = 0; q < radial_size; ++q) dR[q] = weight_derivative * R[q] + weight * dR[q];
        }
        for (std::size_t q = 0; q < radial_size; ++q) R[q] *= weight;
        f.first_channel[j] = channel_offset_[a];
    }
    harmonics_.evaluate_many(n, unit_all, harmonics_all, gradients_all);
    if (gradients_all) {
        for (int64_t j = 0; j < n; ++j) {
            const double inverse_r = 1.0 / environment.distances[j];
            double* dY = gradients_all + j * 3 * LM;
            for (int q = 0; q < 3 * LM; ++q) dY[q] *= inverse_r;
        }
    }
    // c[lm][first_j + k] += Y_j[lm] R_j[l][k]: for one species block, eight channels at a time are
    // summed over all neighbours in vector registers (four-lane ones in the AVX2 copy).
    const bool one_block = n_species() == 1 || mixed_;
    const bool wide = avx2_kernels_selected();
    for (int l = 0; l < L1; ++l) {
        if (one_block) {
            // The 2l + 1 values of m share the radial row R_j[l]: loaded once for up to four of them.
            double* c = coefficients + static_cast<std::size_t>(l * l) * K;
            const double* y = harmonics_all + l * l;
            const double* w = radial_all + l * N;
            if (wide) {
                accumulate_products_for_rows<4>(n, y, LM, 2 * l + 1, w, static_cast<std::ptrdiff_t>(radial_size), c, K, N);
            } else {
                accumulate_products_for_rows<2>(n, y, LM, 2 * l + 1, w, static_cast<std::ptrdiff_t>(radial_size), c, K, N);
            }
            continue;
        }
        for (int lm = l * l; lm < (l + 1) * (l + 1); ++lm) {
            double* c = coefficients + static_cast<std::size_t>(lm) * K;
            const double* y = harmonics_all + lm;
            const double* w = radial_all + l * N;
            for (int64_t j = 0; j < n; ++j) {
                const double yj = y[j * LM];
                const double* wj = w + j * radial_size;
                double* target = c + f.first_channel[j];
                for (int k = 0; k < N; ++k) target[k] += yj * wj[k];
            }
        }
    }
}

void DensityExpansion::coefficient_gradients(const NeighbourFactors& factors, int64_t j, double* out) const {
    const int LM = lm_size(), L1 = max_angular_ + 1, K = n_channels_, N = n_radial_;
    const std::size_t radial_size = static_cast<std::size_t>(L1) * N;
    const double* R = factors.radial.data() + j * radial_size;
    const double* dR = factors.radial_derivative.data() + j * radial_size;
    const double* Y = factors.harmonics.data() + j * LM;
    const double* u = factors.unit.data() + 3 * j;
    const int first = factors.first_channel[j];
    if (N != K) std::fill(out, out + 3 * static_cast<std::size_t>(LM) * K, 0.0);
    for (int alpha = 0; alpha < 3; ++alpha) {
        const double* dY = factors.harmonic_gradients.data() + (3 * j + alpha) * LM;
        for (int l = 0; l < L1; ++l) {
            for (int lm = l * l; lm < (l + 1) * (l + 1); ++lm) {
                double* o = out + (static_cast<std::size_t>(alpha) * LM + lm) * K + first;
                const double radial_part = u[alpha] * Y[lm], angular_part = dY[lm];
                for (int k = 0; k < N; ++k) o[k] = radial_part * dR[l * N + k] + angular_part * R[l * N + k];
            }
        }
    }
}

}  // namespace atomfp
