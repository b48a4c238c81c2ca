/*
 * atomfp.hpp: a header-only C++11 layer over the C API of atomfp.h, for host programs written in
 * C++ (MD drivers, PLUMED actions, KIM model drivers). It adds nothing to what the C API computes:
 *
 *  - every handle is owned by a movable, non-copyable object that frees it (RAII);
 *  - every failing call throws atomfp::Error, which carries the status code, its name and the
 *    library's message;
 *  - arrays are sized by the wrapper (std::vector), following the C API's size rules.
 *
 * It only calls functions of atomfp.h, so it works with any libatomfp of the same major version.
 * Since 0.1.
 */
#ifndef ATOMFP_HPP
#define ATOMFP_HPP

#include "atomfp.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace atomfp {

/* A failed call: the status, and "context: ATOMFP_ERROR_NAME: message" as what(). */
class Error : public std::runtime_error {
public:
    Error(atomfp_status_t status, const std::string& context)
        : std::runtime_error((context.empty() ? std::string() : context + ": ") + atomfp_status_name(status) + ": " +
                             atomfp_last_error()),
          status_(status) {}
    atomfp_status_t status() const { return status_; }

private:
    atomfp_status_t status_;
};

/* Throws Error unless `status` is ATOMFP_OK; `context` says what was being done. */
inline void check(atomfp_status_t status, const std::string& context = std::string()) {
    if (status != ATOMFP_OK) throw Error(status, context);
}

namespace detail {

/* Owns one C handle; `Free` is the C API's matching free function (which accepts NULL). */
template <typename T, void (*Free)(T*)>
class Handle {
public:
    Handle() {}
    explicit Handle(T* pointer) : pointer_(pointer) {}
    ~Handle() { Free(pointer_); }
    Handle(Handle&& other) noexcept : pointer_(other.pointer_) { other.pointer_ = nullptr; }
    Handle& operator=(Handle&& other) noexcept {
        if (this != &other) {
            Free(pointer_);
            pointer_ = other.pointer_;
            other.pointer_ = nullptr;
        }
        return *this;
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    T* get() const { return pointer_; }
    /* For the C API's out-parameters: frees what is held and hands out the slot. */
    T** reset() {
        Free(pointer_);
        pointer_ = nullptr;
        return &pointer_;
    }

private:
    T* pointer_ = nullptr;
};

/* A string the C API returns through (buffer, buffer_len, required_len): asked for once with a
 * buffer, and again with the size the first call reported when that was too small. */
template <typename Call>
std::string read_string(Call call, const std::string& context) {
    std::vector<char> buffer(256);
    int64_t required = 0;
    atomfp_status_t status = call(buffer.data(), static_cast<int64_t>(buffer.size()), &required);
    if (status == ATOMFP_ERROR_BUFFER_TOO_SMALL) {
        buffer.resize(static_cast<std::size_t>(required));
        status = call(buffer.data(), static_cast<int64_t>(buffer.size()), &required);
    }
    check(status, context);
    return std::string(buffer.data());
}

}  // namespace detail

/*
 * Some centres of a system with their part of the neighbour list, as a system of its own (the
 * other atoms stay, as neighbours). The list is copied; system() points into the copy and into the
 * positions, species and cell of the system it was made from, which must outlive the subset.
 * Copies are independent.
 */
class CentreSubset {
public:
    CentreSubset() : full_() {}
    CentreSubset(const atomfp_system_t& full, const std::vector<int64_t>& centres) : full_(full), centres_(centres) {
        offsets_.push_back(0);
        for (std::size_t c = 0; c < centres_.size(); ++c) {
            const int64_t i = centres_[c];
            // The centre's row in the full list: row i in atomfp's own lists, searched otherwise.
            int64_t position = i >= 0 && i < full.n_centers && full.centers[i] == i ? i : -1;
            for (int64_t k = 0; k < full.n_centers && position < 0; ++k) {
                if (full.centers[k] == i) position = k;
            }
            if (position < 0) {
                throw std::invalid_argument("atomfp::CentreSubset: atom " + std::to_string(i) + " is not a centre of the system");
            }
            for (int64_t p = full.offsets[position]; p < full.offsets[position + 1]; ++p) {
                neighbours_.push_back(full.neighbours[p]);
                for (int k = 0; k < 3; ++k) shifts_.push_back(full.cell_shifts ? full.cell_shifts[3 * p + k] : 0);
            }
            offsets_.push_back(static_cast<int64_t>(neighbours_.size()));
        }
    }
    atomfp_system_t system() const {
        atomfp_system_t view = full_;
        view.n_centers = static_cast<int64_t>(centres_.size());
        view.centers = centres_.data();
        view.offsets = offsets_.data();
        view.neighbours = neighbours_.data();
        view.cell_shifts = full_.cell_shifts ? shifts_.data() : nullptr;
        return view;
    }

private:
    atomfp_system_t full_;
    std::vector<int64_t> centres_, offsets_, neighbours_;
    std::vector<int32_t> shifts_;
};

/* A full neighbour list built by atomfp (atomfp_neighbours_build): every atom is a centre. */
class NeighbourList {
public:
    /* cell: [3][3] rows or nullptr (open cluster); pbc: [3] or nullptr (all periodic with a cell). */
    NeighbourList(int64_t n_atoms, const double* positions, const int32_t* species, const double* cell, const int32_t* pbc,
                  double cutoff) {
        check(atomfp_neighbours_build(n_atoms, positions, species, cell, pbc, cutoff, list_.reset()), "neighbour list");
        check(atomfp_neighbours_system(list_.get(), &system_), "neighbour list");
    }
    /* Points into the list (positions and species are its copies); valid while the list lives. */
    const atomfp_system_t& system() const { return system_; }
    CentreSubset centres(const std::vector<int64_t>& chosen) const { return CentreSubset(system_, chosen); }

private:
    detail::Handle<atomfp_neighbours_t, atomfp_neighbours_free> list_;
    atomfp_system_t system_ = {};
};

/* What a model predicts for one system (or a contraction: energy unset); virial W = -dE/d(strain) as in atomfp.h. */
struct Prediction {
    double energy = 0.0;
    std::vector<double> forces;  /* [n_atoms][3], eV/Å */
    double virial[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
};

class Descriptor {
public:
    /* From a JSON specification, e.g. {"type": "acsf", "species": [14], "cutoff": 6.0}. */
    explicit Descriptor(const std::string& json) { check(atomfp_descriptor_create(json.c_str(), handle_.reset()), "descriptor"); }
    int64_t feature_count() const {
        int64_t n = 0;
        check(atomfp_descriptor_feature_count(handle_.get(), &n), "descriptor feature count");
        return n;
    }
    double cutoff() const {
        double r = 0.0;
        check(atomfp_descriptor_cutoff(handle_.get(), &r), "descriptor cutoff");
        return r;
    }
    /* The canonical specification with every default filled in. */
    std::string parameters() const {
        const atomfp_descriptor_t* d = handle_.get();
        return detail::read_string(
            [d](char* buffer, int64_t length, int64_t* required) { return atomfp_descriptor_parameters(d, buffer, length, required); },
            "descriptor parameters");
    }
    std::string feature_label(int64_t index) const {
        const atomfp_descriptor_t* d = handle_.get();
        return detail::read_string(
            [d, index](char* buffer, int64_t length, int64_t* required) {
                return atomfp_descriptor_feature_label(d, index, buffer, length, required);
            },
            "feature label");
    }
    /* Features [n_centers][n_features]. */
    std::vector<double> features(const atomfp_system_t& system) const {
        std::vector<double> out(static_cast<std::size_t>(system.n_centers * feature_count()));
        check(atomfp_descriptor_compute(handle_.get(), &system, out.data(), nullptr), "descriptor");
        return out;
    }
    /* Features and their gradient blocks [n_centers + offsets[n_centers]][3][n_features] (atomfp.h). */
    void compute(const atomfp_system_t& system, std::vector<double>& features, std::vector<double>& gradients) const {
        const int64_t n_features = feature_count();
        const int64_t n_blocks = system.n_centers + (system.n_centers > 0 && system.offsets ? system.offsets[system.n_centers] : 0);
        features.resize(static_cast<std::size_t>(system.n_centers * n_features));
        gradients.resize(static_cast<std::size_t>(n_blocks * 3 * n_features));
        check(atomfp_descriptor_compute(handle_.get(), &system, features.data(), gradients.data()), "descriptor");
    }
    /* Forces [n_atoms][3] = -dE/dx and the virial of an energy E(F) of the features, from
       energy_derivatives = dE/dF [n_centers][n_features], without the gradient blocks. */
    Prediction contract(const atomfp_system_t& system, const std::vector<double>& energy_derivatives) const;
    const atomfp_descriptor_t* get() const { return handle_.get(); }

private:
    detail::Handle<atomfp_descriptor_t, atomfp_descriptor_free> handle_;
};

inline Prediction Descriptor::contract(const atomfp_system_t& system, const std::vector<double>& energy_derivatives) const {
    if (static_cast<int64_t>(energy_derivatives.size()) != system.n_centers * feature_count()) {
        throw std::invalid_argument("atomfp: contract: energy_derivatives must hold n_centers * n_features values");
    }
    Prediction out;
    out.forces.resize(static_cast<std::size_t>(3 * system.n_atoms));
    check(atomfp_descriptor_contract(handle_.get(), &system, energy_derivatives.data(), nullptr, out.forces.data(), out.virial),
          "descriptor contraction");
    return out;
}

class Model {
public:
    explicit Model(const std::string& path) { check(atomfp_model_load(path.c_str(), handle_.reset()), "model " + path); }
    double cutoff() const {
        double r = 0.0;
        check(atomfp_model_cutoff(handle_.get(), &r), "model cutoff");
        return r;
    }
    /* The central species the model has weights for. */
    std::vector<int32_t> species() const {
        int64_t n = 0;
        const atomfp_status_t query = atomfp_model_species(handle_.get(), nullptr, 0, &n);
        if (query != ATOMFP_ERROR_BUFFER_TOO_SMALL) check(query, "model species");
        std::vector<int32_t> out(static_cast<std::size_t>(n));
        check(atomfp_model_species(handle_.get(), out.data(), n, &n), "model species");
        return out;
    }
    /* Energy, forces on every atom of the system and the virial. */
    Prediction predict(const atomfp_system_t& system) const {
        Prediction out;
        out.forces.resize(static_cast<std::size_t>(3 * system.n_atoms));
        check(atomfp_model_predict(handle_.get(), &system, &out.energy, nullptr, out.forces.data(), out.virial), "prediction");
        return out;
    }
    /* The raw call, for hosts that want only some outputs (each may be nullptr). */
    void predict(const atomfp_system_t& system, double* energy, double* center_energies, double* forces, double* virial) const {
        check(atomfp_model_predict(handle_.get(), &system, energy, center_energies, forces, virial), "prediction");
    }
    /* Posterior variances (eV^2) of the centres' energies and of the total (each may be nullptr);
     * Error ATOMFP_ERROR_NOT_AVAILABLE for a model without a posterior covariance. */
    void predict_variance(const atomfp_system_t& system, double* center_variances, double* energy_variance) const {
        check(atomfp_model_predict_variance(handle_.get(), &system, center_variances, energy_variance), "variance");
    }
    /* Every centre's number of features outside their training range (and optionally the largest
     * excess, nullptr to skip); Error ATOMFP_ERROR_NOT_AVAILABLE for files older than version 3. */
    void extrapolation(const atomfp_system_t& system, int64_t* features_outside, double* largest_excess) const {
        check(atomfp_model_extrapolation(handle_.get(), &system, features_outside, largest_excess), "extrapolation");
    }
    /* gradient [n_atoms][3] and virial [9] of sum_c coefficients[c] Var e_c (either may be nullptr). */
    void variance_gradient(const atomfp_system_t& system, const double* coefficients, double* gradient, double* virial) const {
        check(atomfp_model_variance_gradient(handle_.get(), &system, coefficients, gradient, virial), "variance gradient");
    }
    void save(const std::string& path) const { check(atomfp_model_save(handle_.get(), path.c_str()), "model " + path); }
    const atomfp_model_t* get() const { return handle_.get(); }

private:
    detail::Handle<atomfp_model_t, atomfp_model_free> handle_;
};

/* One frame of an extended XYZ file: pointers into the Frames object, valid while it lives. */
struct FrameView {
    int64_t n_atoms = 0;
    const double* positions = nullptr;
    const int32_t* species = nullptr;
    const double* cell = nullptr; /* nullptr without a lattice */
    const int32_t* pbc = nullptr;
};

class Frames {
public:
    explicit Frames(const std::string& path) { check(atomfp_frames_read(path.c_str(), handle_.reset()), "structures " + path); }
    int64_t size() const {
        int64_t n = 0;
        check(atomfp_frames_count(handle_.get(), &n), "frame count");
        return n;
    }
    FrameView operator[](int64_t index) const {
        FrameView frame;
        check(atomfp_frames_get(handle_.get(), index, &frame.n_atoms, &frame.positions, &frame.species, &frame.cell, &frame.pbc),
              "frame " + std::to_string(index));
        return frame;
    }

private:
    detail::Handle<atomfp_frames_t, atomfp_frames_free> handle_;
};

}  // namespace atomfp

#endif /* ATOMFP_HPP */
