#include "descriptors/omfp.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/lapack.hpp"

#include <algorithm>
#include <cmath>

namespace atomfp {

namespace {

// Covalent radii in Å by atomic number (WebElements values, as tabulated by the OMFP reference
// implementations); index 0 unused.
const double covalent_radii[] = {
    1.00, 0.37, 0.32, 1.34, 0.90, 0.82, 0.77, 0.75, 0.73, 0.71, 0.69, 1.54, 1.30, 1.18, 1.11, 1.06, 1.02, 0.99, 0.97,
    1.96, 1.74, 1.44, 1.36, 1.25, 1.27, 1.39, 1.25, 1.26, 1.21, 1.38, 1.31, 1.26, 1.22, 1.19, 1.16, 1.14, 1.10,
    2.11, 1.92, 1.62, 1.48, 1.37, 1.45, 1.56, 1.26, 1.35, 1.31, 1.53, 1.48, 1.44, 1.41, 1.38, 1.35, 1.33, 1.30,
    2.25, 1.98, 1.80, 1.63, 1.76, 1.74, 1.73, 1.72, 1.68, 1.69, 1.68, 1.67, 1.66, 1.65, 1.64, 1.70, 1.60,
    1.50, 1.38, 1.46, 1.59, 1.28, 1.37, 1.28, 1.44, 1.49, 1.48, 1.47, 1.46, 1.45, 1.47, 1.42,
    2.23, 2.01, 1.86, 1.75, 1.69, 1.70, 1.71, 1.72, 1.66, 1.66, 1.68, 1.68, 1.65, 1.67, 1.73, 1.76, 1.61,
    1.57, 1.49, 1.43, 1.41, 1.34, 1.29, 1.28, 1.21, 1.22};
constexpr int tabulated = static_cast<int>(sizeof covalent_radii / sizeof covalent_radii[0]);

// Overlap block <i_a | j_b> of normalised Gaussian orbitals (s, p_x, p_y, p_z) at separation
// d = R_a - R_b, and its derivatives with respect to d (dO[k][i][j]).
void overlap_block(const double d[3], double alpha_a, double alpha_b, int orbitals, double O[4][4], double dO[3][4][4]) {
    const double mu = alpha_a * alpha_b / (alpha_a + alpha_b), t = 2.0 * mu;
    const double g = 2.0 * std::sqrt(alpha_a * alpha_b) / (alpha_a + alpha_b);
    const double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    const double S = g * std::sqrt(g) * std::exp(-mu * r2);
    O[0][0] = S;
    for (int k = 0; k < 3; ++k) dO[k][0][0] = -t * d[k] * S;
    if (orbitals == 1) return;
    const double sa = t / std::sqrt(alpha_b), sb = t / std::sqrt(alpha_a);
    for (int x = 0; x < 3; ++x) {
        O[0][1 + x] = sa * d[x] * S;
        O[1 + x][0] = -sb * d[x] * S;
        for (int y = 0; y < 3; ++y) O[1 + x][1 + y] = g * ((x == y) - t * d[x] * d[y]) * S;
    }
    for (int k = 0; k < 3; ++k) {
        for (int x = 0; x < 3; ++x) {
            dO[k][0][1 + x] = sa * ((k == x) - t * d[x] * d[k]) * S;
            dO[k][1 + x][0] = -sb * ((k == x) - t * d[x] * d[k]) * S;
            for (int y = 0; y < 3; ++y) {
                dO[k][1 + x][1 + y] = -g * t * S * (d[k] * ((x == y) - t * d[x] * d[y]) + (k == x) * d[y] + (k == y) * d[x]);
            }
        }
    }
}

}  // namespace

double covalent_radius(int32_t z) { return z > 0 && z < tabulated ? covalent_radii[z] : 1.0; }

OverlapMatrixFingerprint::OverlapMatrixFingerprint(const json& spec) {
    SpecReader reader(spec);
    reader.string("type", std::nullopt, {"omfp"});
    if (reader.has("species")) {
        species_ = reader.element_list("species");
        if (species_.empty()) fail(Status::json_error, "key 'species', when given, must list at least one atomic number");
    }
    cutoff_ = reader.number("cutoff", 4.0, 0.0, 1e3, true);
    width_scale_ = reader.number("width_scale", 1.0, 0.0, 100.0, true);
    if (reader.has("orbital_widths")) {
        const json& widths = reader.value("orbital_widths");
        const std::string key = reader.key_name("orbital_widths");
        if (!widths.is_object()) fail(Status::json_error, "key '", key, "' must map elements such as \"H\" to widths in Å");
        for (const auto& [name, value] : widths.items()) {
            const int32_t z = atomic_number(name);
            if (z == 0) fail(Status::json_error, "key '", key, "' names '", name, "', not a chemical symbol such as \"H\"");
            if (!value.is_number() || !(value.get<double>() > 0.0) || !(value.get<double>() <= 100.0)) {
                fail(Status::json_error, "key '", key, ".", name, "' must be a width in Å in (0, 100], got ", value.dump());
            }
            orbital_widths_[z] = value.get<double>();
        }
    }
    cutoff_exponent_ = static_cast<int>(reader.integer("cutoff_exponent", 2, 1, 16));
    orbitals_ = reader.string("orbitals", std::string("sp"), {"s", "sp"}) == "s" ? 1 : 4;
    max_atoms_ = reader.integer("max_atoms", 100, 1, 2000);
    smooth_ = reader.string("projection", std::string("sorted"), {"sorted", "smooth"}) == "smooth";
    if (smooth_) {
        smooth_scale_ = reader.number("smooth_scale", static_cast<double>(max_atoms_), 0.0, 1e6, true);
        smooth_terms_ = static_cast<int>(reader.integer("smooth_terms", 32, 1, 100000));
    }
    reader.finish();
    n_features_ = smooth_ ? 2 * static_cast<int64_t>(smooth_terms_) : max_atoms_ * orbitals_;
}

json OverlapMatrixFingerprint::parameters() const {
    json out;
    out["type"] = "omfp";
    if (!species_.empty()) out["species"] = species_;
    out["cutoff"] = cutoff_;
    out["cutoff_exponent"] = cutoff_exponent_;
    // Written only when set, so that the parameters of specifications without them stay as they were.
    if (width_scale_ != 1.0) out["width_scale"] = width_scale_;
    if (!orbital_widths_.empty()) {
        json widths = json::object();
        for (const auto& [z, width] : orbital_widths_) widths[element_symbol(z)] = width;
        out["orbital_widths"] = widths;
    }
    out["orbitals"] = orbitals_ == 1 ? "s" : "sp";
    out["max_atoms"] = max_atoms_;
    out["projection"] = smooth_ ? "smooth" : "sorted";
    if (smooth_) {
        out["smooth_scale"] = smooth_scale_;
        out["smooth_terms"] = smooth_terms_;
    }
    return out;
}

std::string OverlapMatrixFingerprint::feature_label(int64_t index) const {
    if (!smooth_) return "lambda(" + std::to_string(index) + ")";
    return std::string(index % 2 == 0 ? "cos" : "sin") + "(q=" + std::to_string(index / 2 + 1) + ")";
}

double OverlapMatrixFingerprint::orbital_width(int32_t z) const {
    const auto given = orbital_widths_.find(z);
    return width_scale_ * (given != orbital_widths_.end() ? given->second : covalent_radius(z));
}

bool OverlapMatrixFingerprint::handles_species(int32_t z) const {
    if (species_.empty()) return z >= 1 && z <= 118;
    return std::find(species_.begin(), species_.end(), z) != species_.end();
}

void OverlapMatrixFingerprint::check_environment(const Environment& environment) const {
    if (1 + environment.size() > max_atoms_) {
        fail(Status::invalid_argument, "the sphere of atom ", environment.center_atom, " holds ", 1 + environment.size(),
             " atoms, more than this omfp descriptor's max_atoms = ", max_atoms_);
    }
}

class OverlapMatrixFingerprint::OmfpWorkspace final : public Descriptor::Workspace {
public:
    std::vector<double> positions, alpha, amplitude, damping, matrix, eigenvalues;
    std::vector<double> eigenvalue_gradients;  // [k][3] for one atom
};

std::unique_ptr<Descriptor::Workspace> OverlapMatrixFingerprint::make_workspace() const {
    return std::make_unique<OmfpWorkspace>();
}

void OverlapMatrixFingerprint::compute_environment(const Environment& environment, double* features,
                                                   double* neighbour_gradients, Workspace& workspace) const {
    auto& ws = static_cast<OmfpWorkspace&>(workspace);
    const int64_t N = 1 + environment.size(), no = orbitals_, m = N * no;
    ws.positions.assign(3 * N, 0.0);
    ws.alpha.resize(N);
    ws.amplitude.resize(N);
    ws.damping.resize(N);
    const double rc2 = cutoff_ * cutoff_;
    for (int64_t a = 0; a < N; ++a) {
        const int32_t z = a == 0 ? environment.center_species : environment.species[a - 1];
        const double sigma = orbital_width(z);
        ws.alpha[a] = 0.5 / (sigma * sigma);
        double r2 = 0.0;
        if (a > 0) {
            for (int k = 0; k < 3; ++k) ws.positions[3 * a + k] = environment.displacements[3 * (a - 1) + k];
            r2 = environment.distances[a - 1] * environment.distances[a - 1];
        }
        const double base = std::max(0.0, 1.0 - r2 / rc2);
        ws.amplitude[a] = std::pow(base, cutoff_exponent_);
        ws.damping[a] = -2.0 * cutoff_exponent_ / rc2 * std::pow(base, cutoff_exponent_ - 1);  // grad f_a = damping R_a
    }
    // T = F O F
    ws.matrix.assign(static_cast<std::size_t>(m) * m, 0.0);
    double O[4][4], dO[3][4][4];
    for (int64_t a = 0; a < N; ++a) {
        for (int64_t b = 0; b < N; ++b) {
            const double d[3] = {ws.positions[3 * a] - ws.positions[3 * b], ws.positions[3 * a + 1] - ws.positions[3 * b + 1],
                                 ws.positions[3 * a + 2] - ws.positions[3 * b + 2]};
            overlap_block(d, ws.alpha[a], ws.alpha[b], orbitals_, O, dO);
            const double ff = ws.amplitude[a] * ws.amplitude[b];
            for (int i = 0; i < no; ++i)
                for (int j = 0; j < no; ++j) ws.matrix[(a * no + i) * m + b * no + j] = ff * O[i][j];
        }
    }
    std::vector<double>& lambda = ws.eigenvalues;
    symmetric_eigen(static_cast<int>(m), ws.matrix, lambda);  // ascending; rows of ws.matrix are eigenvectors
    for (double& x : lambda) x = std::max(x, 0.0);  // T is positive semi-definite; negatives are rounding

    std::fill(features, features + n_features_, 0.0);
    if (!smooth_) {
        for (int64_t i = 0; i < m; ++i) features[i] = lambda[m - 1 - i];
    } else {
        for (int64_t k = 0; k < m; ++k)
            for (int q = 1; q <= smooth_terms_; ++q) {
                features[2 * (q - 1)] += std::cos(q * lambda[k] / smooth_scale_);
                features[2 * (q - 1) + 1] += std::sin(q * lambda[k] / smooth_scale_);
            }
    }
    if (!neighbour_gradients) return;

    // Hellmann–Feynman: dlambda_k/dR_a = v_k^T (dT/dR_a) v_k, with T_ab = f_a f_b O_ab(R_a - R_b) and
    // f_a depending on R_a - R_centre. The centre's own block follows from translation invariance.
    const std::size_t block = 3 * static_cast<std::size_t>(n_features_);
    std::vector<double>& dlambda = ws.eigenvalue_gradients;
    dlambda.resize(3 * m);
    for (int64_t a = 1; a < N; ++a) {
        std::fill(dlambda.begin(), dlambda.end(), 0.0);
        const double* Ra = &ws.positions[3 * a];
        for (int64_t b = 0; b < N; ++b) {
            const double d[3] = {Ra[0] - ws.positions[3 * b], Ra[1] - ws.positions[3 * b + 1], Ra[2] - ws.positions[3 * b + 2]};
            overlap_block(d, ws.alpha[a], ws.alpha[b], orbitals_, O, dO);
            for (int kappa = 0; kappa < 3; ++kappa) {
                // dT_ab/dR_a,kappa (for b == a only the amplitude changes: T_aa = f_a^2 I).
                double D[4][4];
                for (int i = 0; i < no; ++i)
                    for (int j = 0; j < no; ++j) {
                        const double amplitude_part = ws.damping[a] * Ra[kappa] * ws.amplitude[b] * O[i][j];
                        D[i][j] = b == a ? 2.0 * ws.amplitude[a] * ws.damping[a] * Ra[kappa] * (i == j)
                                         : ws.amplitude[a] * ws.amplitude[b] * dO[kappa][i][j] + amplitude_part;
                    }
                const double factor = b == a ? 1.0 : 2.0;  // T_ba = T_ab^T contributes the same
                for (int64_t k = 0; k < m; ++k) {
                    const double* v = &ws.matrix[k * m];
                    double s = 0.0;
                    for (int i = 0; i < no; ++i)
                        for (int j = 0; j < no; ++j) s += v[a * no + i] * D[i][j] * v[b * no + j];
                    dlambda[3 * k + kappa] += factor * s;
                }
            }
        }
        // Sorted: feature m-1-k is lambda_k. Smooth: dF/dR = sum_k (dF/dlambda_k) dlambda_k/dR.
        double* g = neighbour_gradients + environment.slots[a - 1] * block;
        for (int64_t k = 0; k < m; ++k) {
            for (int kappa = 0; kappa < 3; ++kappa) {
                const double dl = dlambda[3 * k + kappa];
                double* gk = g + kappa * n_features_;
                if (!smooth_) {
                    gk[m - 1 - k] += dl;
                    continue;
                }
                for (int q = 1; q <= smooth_terms_; ++q) {
                    const double x = q * lambda[k] / smooth_scale_, scale = q / smooth_scale_;
                    gk[2 * (q - 1)] += -scale * std::sin(x) * dl;
                    gk[2 * (q - 1) + 1] += scale * std::cos(x) * dl;
                }
            }
        }
    }
}

}  // namespace atomfp
