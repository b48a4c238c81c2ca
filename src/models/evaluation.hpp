// Predictions of a model on a set of structures, and their errors against reference energies,
// forces and virials: what training reports, cross-validation pools and `atomfp predict` prints.
#pragma once

#include "io/frame.hpp"
#include "models/model.hpp"

#include <cstdint>
#include <optional>
#include <map>
#include <string>
#include <vector>

namespace atomfp {

struct FramePrediction {
    double energy = 0.0;          // eV
    std::vector<double> forces;   // [n][3] eV/Å, empty if not asked for
    std::optional<Mat3> virial;   // eV
    std::optional<double> energy_variance;  // eV², when asked for
    std::vector<double> centre_variances;   // [n] eV², when asked for
    std::vector<int64_t> features_outside;  // [n] extrapolation counts, when asked for
};

// Neighbour lists are built per frame for the model's cutoff (open or periodic as the frame says).
// `variances` asks for the posterior variances too (Error(not_available) without a covariance).
// `extrapolation` asks for each centre's count of features outside their training range.
std::vector<FramePrediction> predict_frames(const Model& model, const std::vector<Frame>& frames, bool forces, bool virials,
                                            bool variances = false, bool extrapolation = false);

// How well predicted energy variances describe the errors of structures with reference energies:
// the fractions of errors within one and two standard deviations (0.683 and 0.954 for calibrated
// Gaussian errors), the mean negative log-likelihood of the errors (nats), and the scale s² that
// would make the variances maximum-likelihood ones, mean(err² / var).
struct Calibration {
    int64_t n = 0;
    double within_one_sigma = 0.0, within_two_sigma = 0.0, mean_negative_log_likelihood = 0.0, likelihood_scale = 0.0;
    std::vector<double> squared_z;  // err² / var per structure
    std::vector<double> variances;  // var per structure, eV²
    json to_json() const;
};
Calibration calibrate(const std::vector<Frame>& frames, const std::vector<FramePrediction>& predictions);
// The same statistics for every variance multiplied by `scale`, from the normalised errors they
// were computed from (kept in `calibration`).
Calibration rescaled(const Calibration& calibration, double scale);

struct ErrorMetrics {
    int64_t n_energies = 0, n_force_components = 0, n_virial_components = 0;
    double energy_rmse_per_atom = 0.0, energy_mae_per_atom = 0.0;  // eV/atom
    double force_rmse = 0.0, force_mae = 0.0;                      // eV/Å
    double virial_rmse_per_atom = 0.0, virial_mae_per_atom = 0.0;  // eV/atom

    json to_json() const;
};

// The raw sums behind ErrorMetrics (squares, absolute values and counts for energies, forces and
// virials), which add up over processes; metrics() turns them into RMSE and MAE.
struct ErrorSums {
    std::vector<double> values = std::vector<double>(9, 0.0);
    ErrorMetrics metrics() const;
};
ErrorSums error_sums(const std::vector<Frame>& frames, const std::vector<FramePrediction>& predictions);

// Errors over every reference quantity present in `frames` (energy, forces, virial or stress) for
// which the prediction has a value. Per-atom energies and virials divide by the frame's atom count.
ErrorMetrics compare(const std::vector<Frame>& frames, const std::vector<FramePrediction>& predictions);
// compare() over the structures of each config_type (config_type_of).
std::map<std::string, ErrorMetrics> compare_by_config_type(const std::vector<Frame>& frames,
                                                           const std::vector<FramePrediction>& predictions);

}  // namespace atomfp
