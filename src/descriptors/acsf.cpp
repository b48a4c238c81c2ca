#include "descriptors/acsf.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace atomfp {

std::vector<double> imbalzano_centred_etas(int count, double cutoff) {
    std::vector<double> etas;
    const int n = count - 1;
    for (int m = 0; m <= n; ++m) {
        double width = n > 0 ? std::pow(static_cast<double>(n), static_cast<double>(m) / n) / cutoff : 1.0 / cutoff;
        etas.push_back(width * width);
    }
    return etas;
}

std::vector<AcsfRadial> imbalzano_shifted(int count, double cutoff) {
    std::vector<double> rho;
    for (int m = 0; m <= count; ++m) rho.push_back(cutoff / std::pow(static_cast<double>(count), static_cast<double>(m) / count));
    std::vector<AcsfRadial> out;
    for (int m = 1; m <= count; ++m) {
        double gap = rho[m - 1] - rho[m];
        out.push_back({1.0 / (gap * gap), rho[m]});
    }
    std::sort(out.begin(), out.end(), [](const AcsfRadial& a, const AcsfRadial& b) { return a.r_shift < b.r_shift; });
    return out;
}

namespace {

const std::vector<std::string> preset_names = {"radial10_angular48", "imbalzano2018"};

std::vector<AcsfAngular> angular_grid(const std::vector<double>& etas, const std::vector<double>& zetas, bool narrow) {
    std::vector<AcsfAngular> out;
    for (double eta : etas) {
        for (double zeta : zetas) {
            for (int lambda : {-1, 1}) out.push_back({eta, zeta, lambda, narrow, 0.0});
        }
    }
    return out;
}

inline double integer_power(double x, int n) {
    double result = 1.0;
    while (n > 0) {
        if (n & 1) result *= x;
        x *= x;
        n >>= 1;
    }
    return result;
}

std::string format_number(double x) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", x);
    return buffer;
}

}  // namespace

Acsf::Acsf(const json& spec) : cutoff_function_(CutoffFunction::Kind::cosine, 1.0) {
    SpecReader reader(spec);
    reader.string("type", std::nullopt, {"acsf"});
    for (int64_t z : reader.integer_list("species", 1, 118)) species_.push_back(static_cast<int32_t>(z));
    if (species_.empty()) fail(Status::json_error, "key 'species' must list at least one atomic number");
    species_index_.fill(-1);
    for (std::size_t i = 0; i < species_.size(); ++i) {
        if (species_index_[species_[i]] >= 0) fail(Status::json_error, "key 'species' lists ", species_[i], " twice");
        species_index_[species_[i]] = static_cast<int>(i);
    }
    const double cutoff = reader.number("cutoff", 6.0, 0.0, 1e3, true);
    const std::string cutoff_name = reader.string("cutoff_function", std::string("cosine"), CutoffFunction::names());
    const double inner = reader.number("cutoff_inner_fraction", 0.0, 0.0, 1.0);
    if (inner >= 1.0) fail(Status::json_error, "key 'cutoff_inner_fraction' must be below 1, got ", inner);
    cutoff_function_ = CutoffFunction(CutoffFunction::kind_from_name(cutoff_name), cutoff, inner);
    ordered_pairs_ = reader.string("pair_sum", std::string("unique"), {"unique", "ordered"}) == "ordered";

    const bool explicit_lists = reader.has("radial") || reader.has("angular");
    if (explicit_lists) {
        if (reader.has("preset")) fail(Status::json_error, "key 'preset' cannot be combined with explicit 'radial'/'angular' lists");
        if (reader.has("radial")) {
            const json& list = reader.array("radial");
            for (std::size_t i = 0; i < list.size(); ++i) {
                SpecReader entry = reader.element("radial", i, list[i]);
                double eta = entry.number("eta", std::nullopt, 0.0, 1e6);
                double r_shift = entry.number("r_shift", 0.0, 0.0, 1e3);
                entry.finish();
                radial_.push_back({eta, r_shift});
            }
        }
        if (reader.has("angular")) {
            const json& list = reader.array("angular");
            for (std::size_t i = 0; i < list.size(); ++i) {
                SpecReader entry = reader.element("angular", i, list[i]);
                double eta = entry.number("eta", std::nullopt, 0.0, 1e6);
                double zeta = entry.number("zeta", std::nullopt, 1.0, 1e3);
                int64_t lambda = entry.integer("lambda", std::nullopt, -1, 1);
                if (lambda == 0) fail(Status::json_error, "key '", entry.key_name("lambda"), "' must be -1 or 1, got 0");
                bool narrow = entry.string("form", std::string("wide"), {"wide", "narrow"}) == "narrow";
                double r_shift = entry.number("r_shift", 0.0, 0.0, 1e3);
                entry.finish();
                angular_.push_back({eta, zeta, static_cast<int>(lambda), narrow, r_shift});
            }
        }
    } else {
        const std::string preset = reader.string("preset", preset_names[0], preset_names);
        const bool narrow = reader.string("preset_angular_form", std::string("wide"), {"wide", "narrow"}) == "narrow";
        if (preset == "radial10_angular48") {
            for (double eta : imbalzano_centred_etas(10, cutoff)) radial_.push_back({eta, 0.0});
            angular_ = angular_grid(imbalzano_centred_etas(6, cutoff), {1, 2, 4, 16}, narrow);
        } else {
            for (double eta : imbalzano_centred_etas(8, cutoff)) radial_.push_back({eta, 0.0});
            for (const AcsfRadial& r : imbalzano_shifted(8, cutoff)) radial_.push_back(r);
            angular_ = angular_grid(imbalzano_centred_etas(4, cutoff), {1, 2, 4, 16}, narrow);
        }
    }
    reader.finish();
    if (radial_.empty() && angular_.empty()) fail(Status::json_error, "the ACSF specification defines no functions");

    n_species_ = static_cast<int64_t>(species_.size());
    n_radial_ = static_cast<int64_t>(radial_.size());
    n_angular_ = static_cast<int64_t>(angular_.size());
    n_pair_blocks_ = n_species_ * (n_species_ + 1) / 2;
    angular_offset_ = n_species_ * n_radial_;
    n_features_ = angular_offset_ + n_pair_blocks_ * n_angular_;
    build_groups();
}

void Acsf::build_groups() {
    std::vector<std::pair<int, int>> group_of_feature;
    for (const AcsfAngular& a : angular_) {
        auto g = std::find_if(gaussian_groups_.begin(), gaussian_groups_.end(), [&](const GaussianGroup& x) {
            return x.eta == a.eta && x.r_shift == a.r_shift && x.narrow == a.narrow;
        });
        if (g == gaussian_groups_.end()) {
            gaussian_groups_.push_back({a.eta, a.r_shift, a.narrow});
            g = gaussian_groups_.end() - 1;
        }
        auto t = std::find_if(angular_groups_.begin(), angular_groups_.end(),
                              [&](const AngularGroup& x) { return x.zeta == a.zeta && x.lambda == a.lambda; });
        if (t == angular_groups_.end()) {
            int integer_zeta = (a.zeta == std::floor(a.zeta) && a.zeta <= 64.0) ? static_cast<int>(a.zeta) : 0;
            double prefactor = std::pow(2.0, 1.0 - a.zeta) * (ordered_pairs_ ? 2.0 : 1.0);
            angular_groups_.push_back({a.zeta, a.lambda, integer_zeta, prefactor});
            t = angular_groups_.end() - 1;
        }
        any_narrow_ = any_narrow_ || a.narrow;
        group_of_feature.emplace_back(static_cast<int>(g - gaussian_groups_.begin()),
                                      static_cast<int>(t - angular_groups_.begin()));
    }
    const int n_a = static_cast<int>(angular_groups_.size());
    for (const auto& [g, a] : group_of_feature) feature_cell_.push_back(g * n_a + a);
}

int Acsf::pair_block(int a, int b) const {
    if (a > b) std::swap(a, b);
    const int n = static_cast<int>(n_species_);
    return a * n - a * (a - 1) / 2 + (b - a);
}

json Acsf::parameters() const {
    json out;
    out["type"] = "acsf";
    out["species"] = species_;
    out["cutoff"] = cutoff_function_.cutoff();
    out["cutoff_function"] = cutoff_function_.name();
    out["cutoff_inner_fraction"] = cutoff_function_.inner_fraction();
    out["pair_sum"] = ordered_pairs_ ? "ordered" : "unique";
    out["radial"] = json::array();
    for (const AcsfRadial& r : radial_) out["radial"].push_back({{"eta", r.eta}, {"r_shift", r.r_shift}});
    out["angular"] = json::array();
    for (const AcsfAngular& a : angular_) {
        out["angular"].push_back({{"eta", a.eta}, {"zeta", a.zeta}, {"lambda", a.lambda},
                                  {"form", a.narrow ? "narrow" : "wide"}, {"r_shift", a.r_shift}});
    }
    return out;
}

std::string Acsf::feature_label(int64_t index) const {
    if (index < angular_offset_) {
        const AcsfRadial& r = radial_[index % n_radial_];
        return "G2[" + element_symbol(species_[index / n_radial_]) + "](eta=" + format_number(r.eta) +
               ",r_s=" + format_number(r.r_shift) + ")";
    }
    const int64_t local = index - angular_offset_;
    const int block = static_cast<int>(local / n_angular_);
    const AcsfAngular& a = angular_[local % n_angular_];
    int first = 0;
    while (pair_block(first, static_cast<int>(n_species_) - 1) < block) ++first;
    const int second = first + (block - pair_block(first, first));
    return std::string(a.narrow ? "G3[" : "G9[") + element_symbol(species_[first]) + "," +
           element_symbol(species_[second]) + "](eta=" + format_number(a.eta) + ",zeta=" + format_number(a.zeta) +
           ",lambda=" + std::to_string(a.lambda) + ",r_s=" + format_number(a.r_shift) + ")";
}

// ---- evaluation ------------------------------------------------------------------------------

class Acsf::AcsfWorkspace final : public Descriptor::Workspace {
public:
    std::vector<int> species;      // [n] species index
    std::vector<double> unit;      // [n][3]
    std::vector<double> radial_f;  // [n] cutoff value
    std::vector<double> radial_df;
    std::vector<double> gauss;     // [n][n_g] exp(-eta (r - r_s)^2) f_c(r)
    std::vector<double> gauss_d;   // [n][n_g] its r-derivative
    std::vector<double> power;     // [n_a] prefactor * (1 + lambda cos)^zeta
    std::vector<double> power_d;   // [n_a] its cos-derivative
    std::vector<double> values;    // [n_pair_blocks][n_cells]
    std::vector<double> along;     // [n][n_species][n_cells] coefficient of the neighbour's own unit vector
    std::vector<double> across;    // [n][n_species][3][n_cells] summed partner unit vectors
};

std::unique_ptr<Descriptor::Workspace> Acsf::make_workspace() const {
    auto ws = std::make_unique<AcsfWorkspace>();
    ws->power.resize(angular_groups_.size());
    ws->power_d.resize(angular_groups_.size());
    ws->values.resize(static_cast<std::size_t>(n_pair_blocks_) * gaussian_groups_.size() * angular_groups_.size());
    return ws;
}

void Acsf::compute_environment(const Environment& env, double* features, double* gradients,
                               Workspace& workspace_base) const {
    auto& ws = static_cast<AcsfWorkspace&>(workspace_base);
    const int64_t n = env.size();
    const int64_t nf = n_features_;
    const int n_g = static_cast<int>(gaussian_groups_.size());
    const int n_a = static_cast<int>(angular_groups_.size());
    const int n_cells = n_g * n_a;
    const int n_sp = static_cast<int>(n_species_);
    const bool with_gradients = gradients != nullptr;

    std::fill(features, features + nf, 0.0);
    ws.species.resize(n);
    ws.unit.resize(3 * n);
    ws.radial_f.resize(n);
    ws.radial_df.resize(n);
    for (int64_t q = 0; q < n; ++q) {
        ws.species[q] = species_index_[env.species[q]];
        const double r = env.distances[q];
        for (int k = 0; k < 3; ++k) ws.unit[3 * q + k] = env.displacements[3 * q + k] / r;
        cutoff_function_.evaluate(r, ws.radial_f[q], ws.radial_df[q]);
    }

    // Radial G2.
    for (int64_t q = 0; q < n; ++q) {
        const double r = env.distances[q], fc = ws.radial_f[q], dfc = ws.radial_df[q];
        const int64_t base = ws.species[q] * n_radial_;
        double* g = with_gradients ? gradients + env.slots[q] * 3 * nf : nullptr;
        for (int64_t m = 0; m < n_radial_; ++m) {
            const double dr = r - radial_[m].r_shift;
            const double e = std::exp(-radial_[m].eta * dr * dr);
            features[base + m] += e * fc;
            if (g) {
                const double de = (dfc - 2.0 * radial_[m].eta * dr * fc) * e;
                for (int k = 0; k < 3; ++k) g[k * nf + base + m] += de * ws.unit[3 * q + k];
            }
        }
    }
    if (n_angular_ == 0 || n < 2) return;

    // Angular G3/G9 on the (Gaussian group, angular group) grid.
    ws.gauss.resize(n * n_g);
    ws.gauss_d.resize(n * n_g);
    for (int64_t q = 0; q < n; ++q) {
        const double r = env.distances[q], fc = ws.radial_f[q], dfc = ws.radial_df[q];
        for (int g = 0; g < n_g; ++g) {
            const double dr = r - gaussian_groups_[g].r_shift;
            const double e = std::exp(-gaussian_groups_[g].eta * dr * dr);
            ws.gauss[q * n_g + g] = e * fc;
            ws.gauss_d[q * n_g + g] = (dfc - 2.0 * gaussian_groups_[g].eta * dr * fc) * e;
        }
    }
    std::fill(ws.values.begin(), ws.values.end(), 0.0);
    if (with_gradients) {
        ws.along.assign(static_cast<std::size_t>(n) * n_sp * n_cells, 0.0);
        ws.across.assign(static_cast<std::size_t>(n) * n_sp * 3 * n_cells, 0.0);
    }
    const double cutoff = cutoff_function_.cutoff();
    double* power = ws.power.data();
    double* power_d = ws.power_d.data();

    for (int64_t j = 0; j < n; ++j) {
        const double* uj = &ws.unit[3 * j];
        const double rj = env.distances[j];
        const int sj = ws.species[j];
        for (int64_t k = j + 1; k < n; ++k) {
            const double* uk = &ws.unit[3 * k];
            const double rk = env.distances[k];
            const int sk = ws.species[k];
            const double cos_theta = uj[0] * uk[0] + uj[1] * uk[1] + uj[2] * uk[2];
            bool any_power = false;
            for (int a = 0; a < n_a; ++a) {
                const AngularGroup& t = angular_groups_[a];
                const double base = 1.0 + t.lambda * cos_theta;
                if (base <= 0.0) {
                    power[a] = power_d[a] = 0.0;
                    continue;
                }
                const double p = t.integer_zeta ? integer_power(base, t.integer_zeta - 1) : std::pow(base, t.zeta - 1.0);
                power[a] = t.prefactor * p * base;
                power_d[a] = t.prefactor * t.zeta * t.lambda * p;
                any_power = true;
            }
            if (!any_power) continue;

            double r_jk = 0.0, fc_jk = 1.0, dfc_jk = 0.0;
            if (any_narrow_) {
                double d[3];
                for (int x = 0; x < 3; ++x) d[x] = env.displacements[3 * k + x] - env.displacements[3 * j + x];
                r_jk = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
                cutoff_function_.evaluate(r_jk, fc_jk, dfc_jk);
            }
            double* values = &ws.values[static_cast<std::size_t>(pair_block(sj, sk)) * n_cells];
            const double* gj = &ws.gauss[j * n_g];
            const double* gk = &ws.gauss[k * n_g];

            if (!with_gradients) {
                for (int g = 0; g < n_g; ++g) {
                    double pair = gj[g] * gk[g];
                    if (gaussian_groups_[g].narrow) {
                        if (r_jk >= cutoff) continue;
                        const double dr = r_jk - gaussian_groups_[g].r_shift;
                        pair *= std::exp(-gaussian_groups_[g].eta * dr * dr) * fc_jk;
                    }
                    double* v = values + g * n_a;
                    for (int a = 0; a < n_a; ++a) v[a] += power[a] * pair;
                }
                continue;
            }

            // d(term)/dx_j = u uj + v uk and d(term)/dx_k = w uj + z uk for every cell. The uj part
            // of j and the uk part of k only need a scalar sum ("along"); the partner's unit
            // vector is accumulated in full ("across").
            const double* gdj = &ws.gauss_d[j * n_g];
            const double* gdk = &ws.gauss_d[k * n_g];
            double* along_j = &ws.along[(static_cast<std::size_t>(j) * n_sp + sk) * n_cells];
            double* along_k = &ws.along[(static_cast<std::size_t>(k) * n_sp + sj) * n_cells];
            double* across_j = &ws.across[(static_cast<std::size_t>(j) * n_sp + sk) * 3 * n_cells];
            double* across_k = &ws.across[(static_cast<std::size_t>(k) * n_sp + sj) * 3 * n_cells];
            for (int g = 0; g < n_g; ++g) {
                double h = 1.0, dh = 0.0;
                if (gaussian_groups_[g].narrow) {
                    if (r_jk >= cutoff) continue;
                    const double dr = r_jk - gaussian_groups_[g].r_shift;
                    const double e = std::exp(-gaussian_groups_[g].eta * dr * dr);
                    h = e * fc_jk;
                    dh = (dfc_jk - 2.0 * gaussian_groups_[g].eta * dr * fc_jk) * e;
                }
                const double p0 = gj[g] * gk[g] * h;
                const double p1 = gdj[g] * gk[g] * h;
                const double p2 = gj[g] * gdk[g] * h;
                const double p3 = dh != 0.0 ? gj[g] * gk[g] * dh / r_jk : 0.0;
                // Coefficients of power_d[a] (first) and power[a] (second).
                const double u0 = -p0 * cos_theta / rj, u1 = p1 + p3 * rj;
                const double v0 = p0 / rj, v1 = -p3 * rk;
                const double w0 = p0 / rk, w1 = -p3 * rj;
                const double z0 = -p0 * cos_theta / rk, z1 = p2 + p3 * rk;
                const int offset = g * n_a;
                double* v = values + offset;
                double* aj = along_j + offset;
                double* ak = along_k + offset;
                double* cj = across_j + offset;
                double* ck = across_k + offset;
                for (int a = 0; a < n_a; ++a) {
                    const double A = power[a], dA = power_d[a];
                    v[a] += A * p0;
                    const double u = dA * u0 + A * u1;
                    const double vv = dA * v0 + A * v1;
                    const double w = dA * w0 + A * w1;
                    const double z = dA * z0 + A * z1;
                    aj[a] += u;
                    ak[a] += z;
                    cj[a] += vv * uk[0];
                    cj[n_cells + a] += vv * uk[1];
                    cj[2 * n_cells + a] += vv * uk[2];
                    ck[a] += w * uj[0];
                    ck[n_cells + a] += w * uj[1];
                    ck[2 * n_cells + a] += w * uj[2];
                }
            }
        }
    }

    for (int b = 0; b < n_pair_blocks_; ++b) {
        double* out = features + angular_offset_ + b * n_angular_;
        const double* values = &ws.values[static_cast<std::size_t>(b) * n_cells];
        for (int64_t f = 0; f < n_angular_; ++f) out[f] = values[feature_cell_[f]];
    }
    if (!with_gradients) return;
    for (int64_t q = 0; q < n; ++q) {
        double* g = gradients + env.slots[q] * 3 * nf;
        const double* u = &ws.unit[3 * q];
        for (int s = 0; s < n_sp; ++s) {
            const int64_t base = angular_offset_ + pair_block(ws.species[q], s) * n_angular_;
            const double* along = &ws.along[(static_cast<std::size_t>(q) * n_sp + s) * n_cells];
            const double* across = &ws.across[(static_cast<std::size_t>(q) * n_sp + s) * 3 * n_cells];
            for (int x = 0; x < 3; ++x) {
                double* gx = g + x * nf + base;
                const double* cx = across + x * n_cells;
                for (int64_t f = 0; f < n_angular_; ++f) {
                    const int cell = feature_cell_[f];
                    gx[f] += u[x] * along[cell] + cx[cell];
                }
            }
        }
    }
}

}  // namespace atomfp
