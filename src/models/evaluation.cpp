#include "models/evaluation.hpp"

#include "core/error.hpp"
#include "core/neighbour_list.hpp"

#include <cmath>

namespace atomfp {

std::vector<FramePrediction> predict_frames(const Model& model, const std::vector<Frame>& frames, bool forces, bool virials,
                                            bool variances, bool extrapolation) {
    std::vector<FramePrediction> out(frames.size());
    for (std::size_t a = 0; a < frames.size(); ++a) {
        const Frame& frame = frames[a];
        const NeighbourList list = neighbours_of(frame, model.cutoff());
        FramePrediction& p = out[a];
        if (forces) p.forces.resize(3 * frame.size());
        Mat3 w{};
        const bool virial = virials && frame.cell;
        model.predict(list.view(), &p.energy, nullptr, forces ? p.forces.data() : nullptr, virial ? w.data() : nullptr);
        if (virial) p.virial = w;
        if (variances) {
            double total = 0.0;
            p.centre_variances.resize(frame.size());
            model.predict_variance(list.view(), p.centre_variances.data(), &total);
            p.energy_variance = total;
        }
        if (extrapolation) {
            for (const Extrapolation& e : model.extrapolation(list.view())) p.features_outside.push_back(e.features_outside);
        }
    }
    return out;
}

Calibration rescaled(const Calibration& calibration, double scale) {
    Calibration c;
    c.n = calibration.n;
    if (c.n == 0) return c;
    double one = 0.0, two = 0.0, nll = 0.0, sum = 0.0;
    for (int64_t k = 0; k < c.n; ++k) {
        const double variance = scale * calibration.variances[k], z2 = calibration.squared_z[k] / scale;
        one += z2 <= 1.0;
        two += z2 <= 4.0;
        nll += 0.5 * (std::log(2.0 * M_PI * variance) + z2);
        sum += z2;
        c.squared_z.push_back(z2);
        c.variances.push_back(variance);
    }
    const double n = static_cast<double>(c.n);
    c.within_one_sigma = one / n;
    c.within_two_sigma = two / n;
    c.mean_negative_log_likelihood = nll / n;
    c.likelihood_scale = sum / n;
    return c;
}

Calibration calibrate(const std::vector<Frame>& frames, const std::vector<FramePrediction>& predictions) {
    Calibration raw;
    for (std::size_t a = 0; a < frames.size(); ++a) {
        if (!frames[a].energy || !predictions[a].energy_variance) continue;
        const double variance = std::max(*predictions[a].energy_variance, 1e-300);
        const double error = predictions[a].energy - *frames[a].energy;
        raw.squared_z.push_back(error * error / variance);
        raw.variances.push_back(variance);
        ++raw.n;
    }
    return rescaled(raw, 1.0);
}

json Calibration::to_json() const {
    return {{"structures", n},
            {"within_one_sigma", within_one_sigma},
            {"within_two_sigma", within_two_sigma},
            {"mean_negative_log_likelihood", mean_negative_log_likelihood},
            {"likelihood_scale", likelihood_scale}};
}

json ErrorMetrics::to_json() const {
    return {{"energies", n_energies},
            {"energy_rmse_eV_per_atom", energy_rmse_per_atom},
            {"energy_mae_eV_per_atom", energy_mae_per_atom},
            {"force_components", n_force_components},
            {"force_rmse_eV_per_A", force_rmse},
            {"force_mae_eV_per_A", force_mae},
            {"virial_components", n_virial_components},
            {"virial_rmse_eV_per_atom", virial_rmse_per_atom},
            {"virial_mae_eV_per_atom", virial_mae_per_atom}};
}

ErrorSums error_sums(const std::vector<Frame>& frames, const std::vector<FramePrediction>& predictions) {
    if (frames.size() != predictions.size()) fail(Status::internal, "error_sums: ", frames.size(), " frames but ", predictions.size(), " predictions");
    ErrorSums sums;
    double* v = sums.values.data();  // e2 e1 ne f2 f1 nf v2 v1 nv
    for (std::size_t a = 0; a < frames.size(); ++a) {
        const Frame& frame = frames[a];
        const FramePrediction& p = predictions[a];
        const double n = static_cast<double>(frame.size());
        if (frame.energy) {
            const double e = (p.energy - *frame.energy) / n;
            v[0] += e * e;
            v[1] += std::abs(e);
            v[2] += 1.0;
        }
        if (!p.forces.empty() && frame.forces.size() == p.forces.size()) {
            for (std::size_t k = 0; k < p.forces.size(); ++k) {
                const double d = p.forces[k] - frame.forces[k];
                v[3] += d * d;
                v[4] += std::abs(d);
            }
            v[5] += static_cast<double>(p.forces.size());
        }
        const std::optional<Mat3> reference = reference_virial(frame);
        if (p.virial && reference) {
            for (int k = 0; k < 9; ++k) {
                const double d = ((*p.virial)[k] - (*reference)[k]) / n;
                v[6] += d * d;
                v[7] += std::abs(d);
            }
            v[8] += 9.0;
        }
    }
    return sums;
}

ErrorMetrics ErrorSums::metrics() const {
    const double* v = values.data();
    ErrorMetrics m;
    m.n_energies = static_cast<int64_t>(v[2]);
    m.n_force_components = static_cast<int64_t>(v[5]);
    m.n_virial_components = static_cast<int64_t>(v[8]);
    if (v[2] > 0) {
        m.energy_rmse_per_atom = std::sqrt(v[0] / v[2]);
        m.energy_mae_per_atom = v[1] / v[2];
    }
    if (v[5] > 0) {
        m.force_rmse = std::sqrt(v[3] / v[5]);
        m.force_mae = v[4] / v[5];
    }
    if (v[8] > 0) {
        m.virial_rmse_per_atom = std::sqrt(v[6] / v[8]);
        m.virial_mae_per_atom = v[7] / v[8];
    }
    return m;
}

ErrorMetrics compare(const std::vector<Frame>& frames, const std::vector<FramePrediction>& predictions) {
    return error_sums(frames, predictions).metrics();
}

std::map<std::string, ErrorMetrics> compare_by_config_type(const std::vector<Frame>& frames,
                                                           const std::vector<FramePrediction>& predictions) {
    std::map<std::string, std::pair<std::vector<Frame>, std::vector<FramePrediction>>> groups;
    for (std::size_t a = 0; a < frames.size(); ++a) {
        auto& group = groups[config_type_of(frames[a])];
        group.first.push_back(frames[a]);
        group.second.push_back(predictions.at(a));
    }
    std::map<std::string, ErrorMetrics> out;
    for (const auto& [type, group] : groups) out[type] = compare(group.first, group.second);
    return out;
}

}  // namespace atomfp
