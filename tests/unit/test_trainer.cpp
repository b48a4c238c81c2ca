// Sparse GPR training: a target that is linear in the features is recovered (energies and forces
// on structures not trained on), baselines are fitted from the composition, farthest-point
// sampling against brute force, and inconsistent data is refused.
#include "core/error.hpp"
#include "atomfp.h"
#include "core/lapack.hpp"
#include "descriptors/factory.hpp"
#include "models/model_file.hpp"
#include "models/trainer.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

using namespace atomfp;
using namespace atomfp::test;

namespace {

const char* acsf = R"({"type": "acsf", "species": [6, 14], "cutoff": 4.0, "preset": "imbalzano2018"})";


// E = sum_c a(Z_c) . F_c and F_j = -dE/dx_j from the explicit gradient blocks, with a vector of
// weights per central species (a_of(Z) returns it).
template <class WeightsOf>
void label_linear_by_species(Frame& f, const Descriptor& d, WeightsOf&& a_of) {
    const NeighbourList list = neighbours_of(f, d.cutoff());
    const int64_t nf = d.feature_count(), n = f.size();
    const auto features = features_of(d, list.view());
    const auto per_atom = per_atom_gradients(list.view(), gradients_of(d, list.view()), nf, n);
    double e = 0.0;
    for (int64_t c = 0; c < n; ++c)
        for (int64_t k = 0; k < nf; ++k) e += a_of(f.species[c])[k] * features[c * nf + k];
    f.energy = e;
    f.forces.assign(3 * n, 0.0);
    for (int64_t c = 0; c < n; ++c) {
        const std::vector<double>& a = a_of(f.species[c]);
        for (int64_t j = 0; j < n; ++j)
            for (int alpha = 0; alpha < 3; ++alpha)
                for (int64_t k = 0; k < nf; ++k) f.forces[3 * j + alpha] -= a[k] * per_atom[((c * n + j) * 3 + alpha) * nf + k];
    }
}

void label_linear(Frame& f, const Descriptor& d, const std::vector<double>& a) {
    label_linear_by_species(f, d, [&](int32_t) -> const std::vector<double>& { return a; });
}

// The model reproduces the labels of `frames`: energies to 1e-6 relative, forces (and virials when
// the frames have them) to 1e-5 of the largest force component.
void expect_predicts_labels(const Model& model, const std::vector<Frame>& frames) {
    for (const Frame& f : frames) {
        const NeighbourList list = neighbours_of(f, model.cutoff());
        double energy = 0.0, virial[9];
        std::vector<double> forces(f.forces.size());
        model.predict(list.view(), &energy, nullptr, forces.data(), f.virial ? virial : nullptr);
        EXPECT_NEAR(energy, *f.energy, 1e-6 * std::abs(*f.energy));
        double scale = 0.0;
        for (double x : f.forces) scale = std::max(scale, std::abs(x));
        for (std::size_t k = 0; k < forces.size(); ++k) EXPECT_NEAR(forces[k], f.forces[k], 1e-5 * scale) << k;
        if (f.virial)
            for (int k = 0; k < 9; ++k) EXPECT_NEAR(virial[k], (*f.virial)[k], 1e-5 * scale) << k;
    }
}

// Two models give bit-identical energies on every frame (the same fit reached two ways).
void expect_same_energies(const Model& a, const Model& b, const std::vector<Frame>& frames) {
    for (const Frame& f : frames) {
        const NeighbourList list = neighbours_of(f, a.cutoff());
        double ea = 0.0, eb = 0.0;
        a.predict(list.view(), &ea, nullptr, nullptr, nullptr);
        b.predict(list.view(), &eb, nullptr, nullptr, nullptr);
        EXPECT_EQ(ea, eb);
    }
}

// Smooth deterministic weights of a linear target: a[k] = sin(frequency k + phase).
std::vector<double> wave(int64_t n, double frequency, double phase) {
    std::vector<double> a(n);
    for (int64_t k = 0; k < n; ++k) a[k] = std::sin(frequency * static_cast<double>(k) + phase);
    return a;
}

// Rattled 8-atom Si cells; with `carbon`, one atom of each is carbon.
std::vector<Frame> dataset(int count, uint32_t seed, const Descriptor& d, const std::vector<double>& a, bool carbon = true) {
    std::vector<Frame> frames;
    for (int i = 0; i < count; ++i) {
        Structure s = diamond(1, 5.0 + 0.05 * (i % 10), 0.35, seed + i);
        if (carbon) s.species[i % 8] = 6;
        frames.push_back(frame_of(s));
        label_linear(frames.back(), d, a);
    }
    return frames;
}

}  // namespace

TEST(Trainer, RecoversATargetLinearInTheFeatures) {
    auto d = create_descriptor(acsf);
    const int64_t nf = d->feature_count();
    std::mt19937 generator(2);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> a(nf);
    for (double& x : a) x = normal(generator);
    // Silicon only: every Si reference can then be needed to span the features (a species with few
    // environments could not represent an arbitrary linear target).
    const std::vector<Frame> train = dataset(30, 100, *d, a, false), test = dataset(5, 500, *d, a, false);

    TrainingSettings settings = TrainingSettings::parse(json::parse(std::string(R"({"descriptor": )") + acsf +
        R"(, "kernel": {"type": "linear"}, "sparse_per_species": 150, "sigma_energy": 1e-7, "sigma_forces": 1e-7,
            "baselines": {"Si": 0}})"));
    TrainingSummary summary;
    const Model model = train_sparse_gpr(train, settings, &summary);
    EXPECT_EQ(summary.n_structures, 30);
    EXPECT_EQ(summary.n_environments, 240);
    EXPECT_EQ(summary.n_sparse.at(14), 150);
    EXPECT_EQ(summary.n_force_rows, 30 * 24);
    EXPECT_LT(summary.training.energy_rmse_per_atom, 1e-6);
    expect_predicts_labels(model, test);
    EXPECT_EQ(model.metadata().at("training").at("structures"), 30);
}

TEST(Trainer, FitsBaselinesFromTheComposition) {
    auto d = create_descriptor(acsf);
    std::vector<double> zero(d->feature_count(), 0.0);
    std::vector<Frame> frames = dataset(12, 7, *d, zero);
    for (std::size_t i = 0; i < frames.size(); ++i) {
        Frame& f = frames[i];
        for (std::size_t a = 0; a <= i % 3; ++a) f.species[a] = 6;  // one to three carbons: the composition varies
        double e = 0.0;
        for (int32_t z : f.species) e += z == 14 ? -4.25 : -7.5;
        f.energy = e;
    }
    TrainingSettings settings = TrainingSettings::parse(json::parse(std::string(R"({"descriptor": )") + acsf +
                                                                    R"(, "use_forces": false, "sparse_per_species": 5, "baselines": "composition"})"));
    TrainingSummary summary;
    train_sparse_gpr(frames, settings, &summary);
    EXPECT_NEAR(summary.baselines.at(14), -4.25, 1e-9);
    EXPECT_NEAR(summary.baselines.at(6), -7.5, 1e-9);
    EXPECT_LT(summary.training.energy_rmse_per_atom, 1e-6);
    // By default every species starts from the mean energy per atom, and the kernel learns the rest.
    settings = TrainingSettings::parse(json::parse(std::string(R"({"descriptor": )") + acsf + R"(, "use_forces": false, "sparse_per_species": 5})"));
    EXPECT_EQ(settings.to_json()["baselines"], "average");
    train_sparse_gpr(frames, settings, &summary);
    double energy = 0.0, atoms = 0.0;
    for (const Frame& f : frames) energy += *f.energy, atoms += static_cast<double>(f.size());
    EXPECT_NEAR(summary.baselines.at(14), energy / atoms, 1e-12);
    EXPECT_NEAR(summary.baselines.at(6), energy / atoms, 1e-12);
    for (const char* bad : {R"("median")", "3", "[1, 2]"}) {
        EXPECT_THROW(TrainingSettings::parse(json::parse(std::string(R"({"descriptor": )") + acsf + R"(, "baselines": )" + bad + "}")), Error)
            << bad;
    }
}

TEST(Trainer, FarthestPointSamplingMatchesBruteForce) {
    std::mt19937 generator(4);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    const int64_t n = 40, d = 3;
    std::vector<double> X(n * d);
    for (double& x : X) x = uniform(generator);
    const auto chosen = farthest_point_sampling(n, d, X.data(), 10);
    ASSERT_EQ(chosen.size(), 10u);
    auto dist = [&](int64_t i, int64_t j) {
        double s = 0.0;
        for (int64_t k = 0; k < d; ++k) s += (X[i * d + k] - X[j * d + k]) * (X[i * d + k] - X[j * d + k]);
        return std::sqrt(s);
    };
    for (std::size_t t = 1; t < chosen.size(); ++t) {
        // Each pick is the point whose nearest already-chosen point is farthest.
        double best = -1.0;
        for (int64_t i = 0; i < n; ++i) {
            double nearest = INFINITY;
            for (std::size_t u = 0; u < t; ++u) nearest = std::min(nearest, dist(i, chosen[u]));
            best = std::max(best, nearest);
        }
        double mine = INFINITY;
        for (std::size_t u = 0; u < t; ++u) mine = std::min(mine, dist(chosen[t], chosen[u]));
        EXPECT_DOUBLE_EQ(mine, best);
    }
    EXPECT_EQ(farthest_point_sampling(n, d, X.data(), 100).size(), 40u);
}

// Clustered points, many picks: the clusters a pick cannot reach are skipped, and the picks are
// still those of the plain algorithm (a direct implementation here).
TEST(Trainer, FarthestPointSamplingOfClusteredPointsEqualsThePlainAlgorithm) {
    std::mt19937 generator(9);
    std::normal_distribution<double> normal(0.0, 1.0);
    const int64_t n = 3000, d = 20, blobs = 30, picks = 400;
    std::vector<double> centres(blobs * d), X(n * d);
    for (double& x : centres) x = 10.0 * normal(generator);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < d; ++k) X[i * d + k] = centres[(i % blobs) * d + k] + (0.2 + 0.1 * (i % 7)) * normal(generator);
    auto squared = [&](const double* a, const double* b) {
        double s = 0.0;
        for (int64_t k = 0; k < d; ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
        return s;
    };
    std::vector<double> mean(d, 0.0);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < d; ++k) mean[k] += X[i * d + k] / n;
    auto plain = [&](int64_t next) {
        std::vector<int64_t> expected;
        std::vector<double> nearest(n, INFINITY);
        while (static_cast<int64_t>(expected.size()) < picks) {
            expected.push_back(next);
            for (int64_t i = 0; i < n; ++i) nearest[i] = std::min(nearest[i], squared(&X[i * d], &X[next * d]));
            next = static_cast<int64_t>(std::max_element(nearest.begin(), nearest.end()) - nearest.begin());
        }
        return expected;
    };
    int64_t farthest_from_mean = 0;
    for (int64_t i = 1; i < n; ++i)
        if (squared(&X[i * d], mean.data()) > squared(&X[farthest_from_mean * d], mean.data())) farthest_from_mean = i;
    EXPECT_EQ(farthest_point_sampling(n, d, X.data(), picks), plain(farthest_from_mean));
    // a chosen first row (the most uncertain candidate, in active learning)
    EXPECT_EQ(farthest_point_sampling(n, d, X.data(), picks, 1234), plain(1234));
    EXPECT_NE(plain(1234), plain(farthest_from_mean));
}

TEST(Trainer, RefusesInconsistentData) {
    auto d = create_descriptor(acsf);
    std::vector<double> zero(d->feature_count(), 0.0);
    const TrainingSettings settings = TrainingSettings::parse(json::parse(std::string(R"({"descriptor": )") + acsf + "}"));
    std::vector<Frame> frames = dataset(3, 1, *d, zero);
    frames[1].forces.pop_back();
    try {
        train_sparse_gpr(frames, settings);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("structure 1: forces has 23 values for 8 atoms"), std::string::npos) << e.what();
    }
    frames = dataset(3, 1, *d, zero);
    frames[2].energy.reset();
    EXPECT_THROW(train_sparse_gpr(frames, settings), Error);
    frames = dataset(3, 1, *d, zero);
    frames[0].species[0] = 8;
    EXPECT_THROW(train_sparse_gpr(frames, settings), Error);
    EXPECT_THROW(train_sparse_gpr({}, settings), Error);
    for (const char* bad : {R"({"kernel": {"type": "linear"}})", R"({"descriptor": 3})",
                            R"({"descriptor": {"type": "acsf"}, "sigma_forces": 0})",
                            R"({"descriptor": {"type": "acsf"}, "baselines": {"Xx": 1}})",
                            R"({"descriptor": {"type": "acsf"}, "use_energies": false, "use_forces": false})",
                            R"({"descriptor": {"type": "acsf"}, "colour": "blue"})"}) {
        EXPECT_THROW(TrainingSettings::parse(json::parse(bad)), Error) << bad;
    }
}

TEST(Trainer, KernelRidgeRegressionMatchesADirectSolve) {
    auto d = create_descriptor(acsf);
    const int64_t nf = d->feature_count();
    std::mt19937 generator(9);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> a(nf);
    for (double& x : a) x = normal(generator);
    const std::vector<Frame> train = dataset(10, 300, *d, a), test = dataset(2, 900, *d, a);
    const double gamma = 0.05, sigma = 0.01;
    TrainingSettings settings = TrainingSettings::parse(json::parse(std::string(R"({"method": "krr", "descriptor": )") + acsf +
        R"(, "kernel": {"type": "squared_exponential", "gamma": 0.05}, "sigma_energy": 0.01, "use_forces": false,
            "baselines": {"Si": -4.0, "C": -7.0}})"));
    const Model model = train_krr(train, settings);

    // The same regression written out: structure kernel by a double loop, Gaussian elimination.
    auto environments = [&](const Frame& f) {
        return features_of(*d, neighbours_of(f, d->cutoff()).view());
    };
    auto structure_kernel = [&](const Frame& A, const std::vector<double>& FA, const Frame& B, const std::vector<double>& FB) {
        double sum = 0.0;
        for (int64_t i = 0; i < A.size(); ++i)
            for (int64_t j = 0; j < B.size(); ++j) {
                if (A.species[i] != B.species[j]) continue;
                double d2 = 0.0;
                for (int64_t k = 0; k < nf; ++k) d2 += std::pow(FA[i * nf + k] - FB[j * nf + k], 2);
                sum += std::exp(-gamma * d2);
            }
        return sum;
    };
    const int64_t n = static_cast<int64_t>(train.size());
    std::vector<std::vector<double>> F;
    for (const Frame& f : train) F.push_back(environments(f));
    auto baseline = [](const Frame& f) {
        double e = 0.0;
        for (int32_t z : f.species) e += z == 14 ? -4.0 : -7.0;
        return e;
    };
    std::vector<std::vector<double>> M(n, std::vector<double>(n + 1));
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < n; ++j) M[i][j] = structure_kernel(train[i], F[i], train[j], F[j]);
        M[i][i] += sigma * sigma * static_cast<double>(train[i].size());
        M[i][n] = *train[i].energy - baseline(train[i]);
    }
    for (int64_t c = 0; c < n; ++c)  // Gauss-Jordan without pivoting: M is symmetric positive definite
        for (int64_t r = 0; r < n; ++r) {
            if (r == c) continue;
            const double factor = M[r][c] / M[c][c];
            for (int64_t k = c; k <= n; ++k) M[r][k] -= factor * M[c][k];
        }
    for (const Frame& f : test) {
        const std::vector<double> FB = environments(f);
        double expected = baseline(f);
        for (int64_t i = 0; i < n; ++i) expected += M[i][n] / M[i][i] * structure_kernel(f, FB, train[i], F[i]);
        double energy = 0.0;
        model.predict(neighbours_of(f, model.cutoff()).view(), &energy, nullptr, nullptr, nullptr);
        EXPECT_NEAR(energy, expected, 1e-9 * std::abs(expected));
    }
    TrainingSettings with_forces = settings;
    with_forces.use_forces = true;
    EXPECT_THROW(train_krr(train, with_forces), Error);
}

TEST(Trainer, CrossValidationPredictsEveryStructureOnce) {
    auto d = create_descriptor(acsf);
    std::vector<double> a(d->feature_count(), 0.01);
    const std::vector<Frame> frames = dataset(7, 40, *d, a);
    const TrainingSettings settings = TrainingSettings::parse(json::parse(std::string(R"({"descriptor": )") + acsf +
                                                                          R"(, "sparse_per_species": 20})"));
    const CrossValidation cv = cross_validate(frames, settings, 3, 5);
    ASSERT_EQ(cv.folds.size(), 3u);
    EXPECT_EQ(cv.pooled.n_energies, 7);
    EXPECT_EQ(cv.pooled.n_force_components, 7 * 24);
    EXPECT_EQ(cv.folds[0].n_energies + cv.folds[1].n_energies + cv.folds[2].n_energies, 7);
    EXPECT_GT(cv.pooled.energy_rmse_per_atom, 0.0);
    EXPECT_THROW(cross_validate(frames, settings, 1, 5), Error);
    EXPECT_THROW(cross_validate(frames, settings, 8, 5), Error);
}

// A scan reduces each fold's design rows once for all sigma values: every point must give the
// cross-validation errors of its own separate fit (sigma_forces keeping its ratio to sigma_energy).
TEST(Trainer, ScanPointsEqualSeparateCrossValidations) {
    auto d = create_descriptor(acsf);
    std::vector<double> a(d->feature_count());
    for (std::size_t k = 0; k < a.size(); ++k) a[k] = 0.01 * std::sin(0.9 * static_cast<double>(k));
    std::vector<Frame> frames = dataset(12, 70, *d, a);
    for (std::size_t i = 0; i < frames.size(); ++i) *frames[i].energy += 0.02 * std::cos(3.0 * static_cast<double>(i));
    const TrainingSettings settings = TrainingSettings::parse(json::parse(std::string(R"({"descriptor": )") + acsf +
        R"(, "kernel": {"type": "polynomial", "zeta": 2}, "sparse_per_species": 15, "sigma_energy": 0.004, "sigma_forces": 0.1})"));
    const std::vector<double> zetas = {2.0, 3.0}, sigmas = {0.001, 0.004, 0.03};
    const std::vector<ScanPoint> points = scan_hyperparameters(frames, settings, zetas, sigmas, 3, 7);
    ASSERT_EQ(points.size(), 6u);
    for (const ScanPoint& p : points) {
        TrainingSettings separate = settings;
        separate.kernel = settings.kernel.with_parameter(p.kernel_parameter);
        separate.sigma_energy = p.sigma_energy;
        separate.sigma_forces = settings.sigma_forces * p.sigma_energy / settings.sigma_energy;
        const CrossValidation expected = cross_validate(frames, separate, 3, 7);
        EXPECT_NEAR(p.errors.energy_rmse_per_atom, expected.pooled.energy_rmse_per_atom, 1e-8 * expected.pooled.energy_rmse_per_atom);
        EXPECT_NEAR(p.errors.force_rmse, expected.pooled.force_rmse, 1e-8 * expected.pooled.force_rmse);
    }
    // The sigmas matter (the test would pass trivially otherwise).
    EXPECT_GT(std::abs(points[0].errors.energy_rmse_per_atom - points[2].errors.energy_rmse_per_atom),
              1e-3 * points[0].errors.energy_rmse_per_atom);
    // The linear kernel has no parameter: one kernel value, the sigmas scanned all the same.
    TrainingSettings linear = settings;
    linear.kernel = Kernel::from_json(json{{"type", "linear"}});
    const std::vector<ScanPoint> linear_points = scan_hyperparameters(frames, linear, {0.0}, {0.001, 0.03}, 3, 7);
    ASSERT_EQ(linear_points.size(), 2u);
    for (const ScanPoint& p : linear_points) {
        TrainingSettings separate = linear;
        separate.sigma_energy = p.sigma_energy;
        separate.sigma_forces = settings.sigma_forces * p.sigma_energy / settings.sigma_energy;
        const double expected = cross_validate(frames, separate, 3, 7).pooled.energy_rmse_per_atom;
        EXPECT_NEAR(p.errors.energy_rmse_per_atom, expected, 1e-8 * expected);
    }
    EXPECT_THROW(scan_hyperparameters(frames, linear, {1.0, 2.0}, {0.001}, 3, 7), Error);
}

namespace {

// K threads standing in for K processes: sum and gather meet at a barrier, as MPI collectives would.
class ThreadGroup {
public:
    explicit ThreadGroup(int size) : size_(size), deposits_(size) {}

    std::vector<double> exchange(int rank, const std::vector<double>& local) {
        std::unique_lock<std::mutex> lock(mutex_);
        deposits_[rank] = local;
        wait(lock);
        std::vector<std::vector<double>> all = deposits_;
        wait(lock);  // nobody deposits again before everyone has read
        std::vector<double> out;
        for (const auto& d : all) out.insert(out.end(), d.begin(), d.end());
        return out;
    }
    int size() const { return size_; }

private:
    void wait(std::unique_lock<std::mutex>& lock) {
        const long generation = generation_;
        if (++arrived_ == size_) {
            arrived_ = 0;
            ++generation_;
            condition_.notify_all();
        } else {
            condition_.wait(lock, [&] { return generation_ != generation; });
        }
    }
    int size_, arrived_ = 0;
    long generation_ = 0;
    std::mutex mutex_;
    std::condition_variable condition_;
    std::vector<std::vector<double>> deposits_;
};

class ThreadCommunicator final : public TrainingCommunicator {
public:
    ThreadCommunicator(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return group_.size(); }
    void sum(std::vector<double>& values) const override {
        const std::vector<double> all = group_.exchange(rank_, values);
        std::fill(values.begin(), values.end(), 0.0);
        for (std::size_t k = 0; k < all.size(); ++k) values[k % values.size()] += all[k];
    }
    std::vector<double> gather(const std::vector<double>& local) const override { return group_.exchange(rank_, local); }

private:
    ThreadGroup& group_;
    int rank_;
};

}  // namespace

TEST(Trainer, DistributedFitEqualsTheSingleProcessFit) {
    auto d = create_descriptor(acsf);
    std::vector<double> a(d->feature_count());
    std::mt19937 generator(12);
    std::normal_distribution<double> normal(0.0, 1.0);
    for (double& x : a) x = normal(generator);
    const std::vector<Frame> frames = dataset(11, 77, *d, a);
    const TrainingSettings settings = TrainingSettings::parse(json::parse(std::string(R"({"descriptor": )") + acsf +
        R"(, "sparse_per_species": 30, "sigma_energy": 0.001, "sigma_forces": 0.01, "kernel": {"type": "polynomial", "zeta": 3}})"));
    TrainingSummary serial_summary;
    const Model serial = train_sparse_gpr(frames, settings, &serial_summary);
    for (int processes : {2, 3, 5}) {
        ThreadGroup group(processes);
        std::vector<std::unique_ptr<Model>> models(processes);
        std::vector<TrainingSummary> summaries(processes);
        std::vector<std::thread> threads;
        for (int r = 0; r < processes; ++r) {
            threads.emplace_back([&, r] {
                const ThreadCommunicator communicator(group, r);
                models[r] = std::make_unique<Model>(train_sparse_gpr(frames, settings, &summaries[r], communicator));
            });
        }
        for (auto& t : threads) t.join();
        for (int r = 0; r < processes; ++r) {
            ASSERT_EQ(models[r]->blocks().size(), serial.blocks().size());
            for (std::size_t b = 0; b < serial.blocks().size(); ++b) {
                EXPECT_EQ(models[r]->blocks()[b].references, serial.blocks()[b].references);  // the same FPS choice
                // The same reduction slices, combined in the same order: the same bits.
                EXPECT_EQ(models[r]->blocks()[b].weights, serial.blocks()[b].weights) << processes << " processes";
            }
            EXPECT_EQ(summaries[r].n_force_rows, serial_summary.n_force_rows);
            EXPECT_NEAR(summaries[r].training.force_rmse, serial_summary.training.force_rmse, 1e-10);
        }
    }
}

TEST(Trainer, CurSelectionFollowsTheLeadingSingularVectorsAndStopsAtTheRank) {
    // Rows along three orthogonal directions (5, 3 and 2 rows, decreasing weight) in 6 dimensions.
    const int64_t d = 6;
    std::vector<double> X;
    std::mt19937 generator(3);
    std::normal_distribution<double> noise(0.0, 1e-3);
    const double sizes[3] = {3.0, 2.0, 1.0};
    const int counts[3] = {5, 3, 2};
    for (int direction = 0; direction < 3; ++direction)
        for (int r = 0; r < counts[direction]; ++r) {
            std::vector<double> row(d, 0.0);
            row[2 * direction] = sizes[direction] * (1.0 + 0.1 * r);
            row[2 * direction + 1] = 0.5 * sizes[direction];
            for (double& x : row) x += noise(generator);
            X.insert(X.end(), row.begin(), row.end());
        }
    const int64_t n = 10;
    // The first choice: the largest |row . v1| for the leading eigenvector v1 of X^T X (LAPACK).
    std::vector<double> G(d * d, 0.0), eigenvalues;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t a = 0; a < d; ++a)
            for (int64_t b = 0; b < d; ++b) G[a * d + b] += X[i * d + a] * X[i * d + b];
    symmetric_eigen(static_cast<int>(d), G, eigenvalues);
    int64_t expected = 0;
    double best = -1.0;
    for (int64_t i = 0; i < n; ++i) {
        double s = 0.0;
        for (int64_t a = 0; a < d; ++a) s += X[i * d + a] * G[(d - 1) * d + a];
        if (s * s > best) best = s * s, expected = i;
    }
    const std::vector<int64_t> chosen = cur_selection(n, d, X.data(), 3);
    ASSERT_EQ(chosen.size(), 3u);
    EXPECT_EQ(chosen[0], expected);
    // One row from each direction: rows 0-4, 5-7, 8-9.
    std::vector<int> groups;
    for (int64_t i : chosen) groups.push_back(i < 5 ? 0 : (i < 8 ? 1 : 2));
    std::sort(groups.begin(), groups.end());
    EXPECT_EQ(groups, (std::vector<int>{0, 1, 2}));
    // A rank-2 matrix offers only two rows.
    std::vector<double> rank_two = {1, 0, 0, 0, 1, 0, 2, 1, 0, 3, -1, 0};
    EXPECT_EQ(cur_selection(4, 3, rank_two.data(), 4).size(), 2u);
}

TEST(Trainer, CurSelectedReferencesFitToo) {
    auto d = create_descriptor(acsf);
    std::vector<double> a(d->feature_count(), 0.02);
    const std::vector<Frame> frames = dataset(6, 60, *d, a);
    TrainingSummary summary;
    train_sparse_gpr(frames, TrainingSettings::parse(json::parse(std::string(R"({"descriptor": )") + acsf +
                                                                 R"(, "selection": "cur", "sparse_per_species": 12})")),
                     &summary);
    EXPECT_EQ(summary.n_sparse.at(14), 12);
    EXPECT_EQ(summary.n_sparse.at(6), 6);  // only six carbon environments
    EXPECT_LT(summary.training.energy_rmse_per_atom, 0.05);
    EXPECT_THROW(TrainingSettings::parse(json::parse(R"({"descriptor": {"type": "acsf"}, "selection": "random"})")), Error);
}

// The C API trainer fits the model the library's train() fits on the same structures (equal
// predictions bit for bit) and reports bad input with a status and a message.
TEST(TrainerCApi, FitsWhatTheLibraryFitsAndRefusesBadInput) {
    auto d = create_descriptor(acsf);
    std::vector<double> a(d->feature_count());
    for (std::size_t k = 0; k < a.size(); ++k) a[k] = std::cos(0.7 * static_cast<double>(k));
    const std::vector<Frame> frames = dataset(12, 40, *d, a);
    const std::string config = std::string(R"({"descriptor": )") + acsf +
                               R"(, "kernel": {"type": "polynomial", "zeta": 2}, "sparse_per_species": 40})";

    atomfp_trainer_t* trainer = nullptr;
    ASSERT_EQ(atomfp_trainer_create(config.c_str(), &trainer), ATOMFP_OK) << atomfp_last_error();
    for (const Frame& f : frames) {
        ASSERT_EQ(atomfp_trainer_add_structure(trainer, f.size(), f.positions.data(), f.species.data(), f.cell->data(), nullptr,
                                               &*f.energy, f.forces.data(), nullptr),
                  ATOMFP_OK)
            << atomfp_last_error();
    }
    int64_t n = 0;
    ASSERT_EQ(atomfp_trainer_size(trainer, &n), ATOMFP_OK);
    EXPECT_EQ(n, 12);
    int64_t needed = 0;
    EXPECT_EQ(atomfp_trainer_summary(trainer, nullptr, 0, &needed), ATOMFP_ERROR_INVALID_ARGUMENT);  // before a fit
    atomfp_model_t* fitted = nullptr;
    ASSERT_EQ(atomfp_trainer_train(trainer, &fitted), ATOMFP_OK) << atomfp_last_error();
    EXPECT_EQ(atomfp_trainer_summary(trainer, nullptr, 0, &needed), ATOMFP_ERROR_BUFFER_TOO_SMALL);
    std::string summary(static_cast<std::size_t>(needed), '\0');
    ASSERT_EQ(atomfp_trainer_summary(trainer, summary.data(), needed, nullptr), ATOMFP_OK);
    EXPECT_EQ(json::parse(summary.c_str()).at("structures"), 12);
    // The model's header carries the fit's record; bad arguments are status codes.
    ASSERT_EQ(atomfp_model_header(fitted, nullptr, 0, &needed), ATOMFP_ERROR_BUFFER_TOO_SMALL);
    std::string header(static_cast<std::size_t>(needed), '\0');
    ASSERT_EQ(atomfp_model_header(fitted, header.data(), needed, nullptr), ATOMFP_OK);
    const json parsed = json::parse(header.c_str());
    EXPECT_EQ(parsed.at("metadata").at("training").at("structures"), 12);
    EXPECT_EQ(parsed.at("metadata").at("settings"), TrainingSettings::parse(json::parse(config)).to_json());
    EXPECT_FALSE(parsed.contains("created_by"));
    EXPECT_EQ(atomfp_model_header(nullptr, nullptr, 0, &needed), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_model_header(fitted, nullptr, 5, &needed), ATOMFP_ERROR_INVALID_ARGUMENT);

    const Model direct = train(frames, TrainingSettings::parse(json::parse(config)));
    Structure s = diamond(1, 5.2, 0.3, 999);
    s.species[3] = 6;
    const NeighbourList list = neighbour_list(s, direct.cutoff());
    atomfp_system_t view;
    const SystemView sv = list.view();
    std::memcpy(&view, &sv, sizeof view);
    double e_api = 0.0, e_direct = 0.0;
    std::vector<double> f_api(3 * s.size()), f_direct(3 * s.size());
    ASSERT_EQ(atomfp_model_predict(fitted, &view, &e_api, nullptr, f_api.data(), nullptr), ATOMFP_OK) << atomfp_last_error();
    direct.predict(sv, &e_direct, nullptr, f_direct.data(), nullptr);
    EXPECT_EQ(e_api, e_direct);
    EXPECT_EQ(f_api, f_direct);
    atomfp_model_free(fitted);

    // Bad input: a status, a message, nothing added.
    const Frame& f = frames[0];
    const double nan = std::nan(""), inf = INFINITY;
    std::vector<double> bad = f.positions;
    bad[4] = nan;
    EXPECT_EQ(atomfp_trainer_add_structure(trainer, f.size(), bad.data(), f.species.data(), nullptr, nullptr, nullptr, nullptr,
                                           nullptr),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("positions[4]"), std::string::npos) << atomfp_last_error();
    EXPECT_EQ(atomfp_trainer_add_structure(trainer, f.size(), f.positions.data(), f.species.data(), nullptr, nullptr, &inf,
                                           nullptr, nullptr),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_trainer_add_structure(trainer, 0, f.positions.data(), f.species.data(), nullptr, nullptr, nullptr, nullptr,
                                           nullptr),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_trainer_add_structure(trainer, f.size(), nullptr, f.species.data(), nullptr, nullptr, nullptr, nullptr,
                                           nullptr),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    const int32_t periodic[3] = {1, 0, 0};
    EXPECT_EQ(atomfp_trainer_add_structure(trainer, f.size(), f.positions.data(), f.species.data(), nullptr, periodic, nullptr,
                                           nullptr, nullptr),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    ASSERT_EQ(atomfp_trainer_size(trainer, &n), ATOMFP_OK);
    EXPECT_EQ(n, 12);
    EXPECT_EQ(atomfp_trainer_train(trainer, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_trainer_train(nullptr, &fitted), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_trainer_size(nullptr, &n), ATOMFP_ERROR_INVALID_ARGUMENT);
    atomfp_trainer_free(trainer);

    // Bad configurations, an empty trainer, species the descriptor does not handle.
    EXPECT_EQ(atomfp_trainer_create(R"({"descriptor": {"type": "acsf"}, "kernel": {"type": "cubic"}})", &trainer), ATOMFP_ERROR_JSON);
    EXPECT_EQ(atomfp_trainer_create("{not json", &trainer), ATOMFP_ERROR_JSON);
    EXPECT_EQ(atomfp_trainer_create(nullptr, &trainer), ATOMFP_ERROR_INVALID_ARGUMENT);
    ASSERT_EQ(atomfp_trainer_create(config.c_str(), &trainer), ATOMFP_OK);
    EXPECT_EQ(atomfp_trainer_train(trainer, &fitted), ATOMFP_ERROR_INVALID_ARGUMENT);
    std::vector<int32_t> oxygen = f.species;
    oxygen[0] = 8;
    ASSERT_EQ(atomfp_trainer_add_structure(trainer, f.size(), f.positions.data(), oxygen.data(), f.cell->data(), nullptr,
                                           &*f.energy, f.forces.data(), nullptr),
              ATOMFP_OK);
    EXPECT_EQ(atomfp_trainer_train(trainer, &fitted), ATOMFP_ERROR_SPECIES) << atomfp_last_error();
    atomfp_trainer_free(trainer);
    atomfp_trainer_free(nullptr);
}

namespace {

std::vector<double> capi_energies(atomfp_model_t* model, const std::vector<Frame>& frames) {
    std::vector<double> out;
    for (const Frame& f : frames) {
        const NeighbourList list = neighbours_of(f, 4.0);
        const SystemView sv = list.view();
        atomfp_system_t view;
        std::memcpy(&view, &sv, sizeof view);
        double e = 0.0;
        EXPECT_EQ(atomfp_model_predict(model, &view, &e, nullptr, nullptr, nullptr), ATOMFP_OK) << atomfp_last_error();
        out.push_back(e);
    }
    return out;
}

}  // namespace

// Structure keys set through the C API weigh the fit exactly as the same keys in a file's comment
// lines do (bit-identical models), they change the fit, and bad keys are status codes.
TEST(TrainerCApi, StructureKeysWeighAsFileKeysDo) {
    auto d = create_descriptor(acsf);
    std::vector<double> a(d->feature_count());
    for (std::size_t k = 0; k < a.size(); ++k) a[k] = std::sin(0.3 * static_cast<double>(k));
    const std::vector<Frame> frames = dataset(10, 70, *d, a);
    const std::string config = std::string(R"({"descriptor": )") + acsf +
                               R"(, "kernel": {"type": "polynomial", "zeta": 2}, "sparse_per_species": 15,
                                    "config_type_sigma": {"hot": {"sigma_energy": 0.5, "sigma_forces": 2.0}}})";
    auto fit_through_capi = [&](bool with_keys) {
        atomfp_trainer_t* trainer = nullptr;
        EXPECT_EQ(atomfp_trainer_create(config.c_str(), &trainer), ATOMFP_OK) << atomfp_last_error();
        for (const Frame& f : frames) {
            EXPECT_EQ(atomfp_trainer_add_structure(trainer, f.size(), f.positions.data(), f.species.data(), f.cell->data(),
                                                   nullptr, &*f.energy, f.forces.data(), nullptr),
                      ATOMFP_OK);
        }
        if (with_keys) {
            for (int64_t i = 0; i < 4; ++i) {
                EXPECT_EQ(atomfp_trainer_set_structure_keys(trainer, i, R"({"config_type": "hot"})"), ATOMFP_OK) << atomfp_last_error();
            }
            EXPECT_EQ(atomfp_trainer_set_structure_keys(trainer, 7, R"({"energy_sigma": 0.25, "force_sigma": 0.125})"), ATOMFP_OK);
        }
        atomfp_model_t* model = nullptr;
        EXPECT_EQ(atomfp_trainer_train(trainer, &model), ATOMFP_OK) << atomfp_last_error();
        atomfp_trainer_free(trainer);
        return model;
    };
    std::vector<Frame> keyed = frames;
    for (int i = 0; i < 4; ++i) keyed[i].info["config_type"] = "hot";
    keyed[7].info["energy_sigma"] = "0.25";
    keyed[7].info["force_sigma"] = "0.125";
    const Model direct = train(keyed, TrainingSettings::parse(json::parse(config)));
    atomfp_model_t* with_keys = fit_through_capi(true);
    atomfp_model_t* without_keys = fit_through_capi(false);
    std::vector<double> expected;
    for (const Frame& f : frames) {
        const NeighbourList list = neighbours_of(f, 4.0);
        double e = 0.0;
        direct.predict(list.view(), &e, nullptr, nullptr, nullptr);
        expected.push_back(e);
    }
    EXPECT_EQ(capi_energies(with_keys, frames), expected);
    const std::vector<double> unweighted = capi_energies(without_keys, frames);
    double largest_change = 0.0;
    for (std::size_t i = 0; i < frames.size(); ++i) largest_change = std::max(largest_change, std::abs(unweighted[i] - expected[i]));
    EXPECT_GT(largest_change, 1e-6);
    int64_t needed = 0;
    ASSERT_EQ(atomfp_model_header(with_keys, nullptr, 0, &needed), ATOMFP_ERROR_BUFFER_TOO_SMALL);
    std::string header(static_cast<std::size_t>(needed), '\0');
    ASSERT_EQ(atomfp_model_header(with_keys, header.data(), needed, nullptr), ATOMFP_OK);
    EXPECT_EQ(json::parse(header.c_str()).at("metadata").at("training").at("config_types"), json::parse(R"j({"hot": 4, "(none)": 6})j"));
    atomfp_model_free(with_keys);
    atomfp_model_free(without_keys);

    atomfp_trainer_t* trainer = nullptr;
    ASSERT_EQ(atomfp_trainer_create(config.c_str(), &trainer), ATOMFP_OK);
    const Frame& f = frames[0];
    ASSERT_EQ(atomfp_trainer_add_structure(trainer, f.size(), f.positions.data(), f.species.data(), f.cell->data(), nullptr,
                                           &*f.energy, f.forces.data(), nullptr),
              ATOMFP_OK);
    const std::vector<std::tuple<int64_t, const char*, atomfp_status_t, const char*>> bad = {
        {1, R"({"config_type": "hot"})", ATOMFP_ERROR_INVALID_ARGUMENT, "index 1"},
        {-1, R"({"config_type": "hot"})", ATOMFP_ERROR_INVALID_ARGUMENT, "index -1"},
        {0, nullptr, ATOMFP_ERROR_INVALID_ARGUMENT, "keys_json"},
        {0, "{not json", ATOMFP_ERROR_JSON, ""},
        {0, R"([1, 2])", ATOMFP_ERROR_JSON, "JSON object"},
        {0, R"({"config_type": 3})", ATOMFP_ERROR_JSON, "config_type"},
        {0, R"({"energy_sigma": -0.1})", ATOMFP_ERROR_JSON, "energy_sigma"},
        {0, R"({"force_sigma": "big"})", ATOMFP_ERROR_JSON, "force_sigma"},
        {0, R"({"config_type": "hot", "weight": 2})", ATOMFP_ERROR_JSON, "weight"},
    };
    for (const auto& [index, text, status, words] : bad) {
        EXPECT_EQ(atomfp_trainer_set_structure_keys(trainer, index, text), status) << (text ? text : "NULL");
        EXPECT_NE(std::string(atomfp_last_error()).find(words), std::string::npos) << atomfp_last_error();
    }
    EXPECT_EQ(atomfp_trainer_set_structure_keys(nullptr, 0, "{}"), ATOMFP_ERROR_INVALID_ARGUMENT);
    // A rejected call leaves the structure's keys as they were: the fit still has no config_type.
    atomfp_model_t* model = nullptr;
    ASSERT_EQ(atomfp_trainer_set_structure_keys(trainer, 0, R"({"config_type": "hot", "virial_sigma": 0})"), ATOMFP_ERROR_JSON);
    ASSERT_EQ(atomfp_trainer_train(trainer, &model), ATOMFP_OK) << atomfp_last_error();
    ASSERT_EQ(atomfp_model_header(model, nullptr, 0, &needed), ATOMFP_ERROR_BUFFER_TOO_SMALL);
    header.assign(static_cast<std::size_t>(needed), '\0');
    ASSERT_EQ(atomfp_model_header(model, header.data(), needed, nullptr), ATOMFP_OK);
    EXPECT_EQ(json::parse(header.c_str()).at("metadata").at("training").at("config_types"), json::parse(R"j({"(none)": 1})j"));
    atomfp_model_free(model);
    atomfp_trainer_free(trainer);
}

// Two kinds of structures labelled by two different linear targets cannot both be fitted: the
// sigmas decide which one the model follows. In the limit of a tiny sigma for one kind and a huge
// one for the other, the model reproduces the first kind's target exactly.
TEST(Trainer, SigmasPerConfigTypeAndPerStructureDecideWhichLabelsAreFitted) {
    auto d = create_descriptor(acsf);
    const int64_t nf = d->feature_count();
    const std::vector<double> a = wave(nf, 0.7, 0.3), b = wave(nf, 1.1, M_PI / 2);
    std::vector<Frame> frames = dataset(30, 300, *d, a, false);
    for (std::size_t i = 0; i < frames.size(); ++i) {
        frames[i].info["config_type"] = i % 2 ? "odd" : "even";
        if (i % 2) label_linear(frames[i], *d, b);
    }
    const std::vector<Frame> test_a = dataset(3, 900, *d, a, false), test_b = dataset(3, 900, *d, b, false);
    const std::string base = std::string(R"({"descriptor": )") + acsf +
                             R"(, "kernel": {"type": "linear"}, "sparse_per_species": 150, "baselines": {"Si": 0},
                                "sigma_energy": 1e-7, "sigma_forces": 1e-7)";
    const Model follows_even = train_sparse_gpr(
        frames, TrainingSettings::parse(json::parse(base + R"(, "config_type_sigma": {"odd": {"sigma_energy": 1e3, "sigma_forces": 1e3}}})")));
    expect_predicts_labels(follows_even, test_a);
    const Model follows_odd = train_sparse_gpr(
        frames, TrainingSettings::parse(json::parse(base + R"(, "config_type_sigma": {"even": {"sigma_energy": 1e3, "sigma_forces": 1e3}}})")));
    expect_predicts_labels(follows_odd, test_b);
    EXPECT_EQ(follows_odd.metadata().at("training").at("config_types"), json({{"even", 15}, {"odd", 15}}));
    EXPECT_EQ(follows_odd.metadata().at("settings").at("config_type_sigma").at("even").at("sigma_energy"), 1e3);

    // The same sigmas as keys of the structures (GAP's energy_sigma, force_sigma) give the same fit.
    std::vector<Frame> keyed = frames;
    for (std::size_t i = 1; i < keyed.size(); i += 2) {
        keyed[i].info["energy_sigma"] = "1e3";
        keyed[i].info["force_sigma"] = "1e3";
    }
    expect_same_energies(follows_even, train_sparse_gpr(keyed, TrainingSettings::parse(json::parse(base + "}"))), test_a);
    // A structure's key beats its type's entry.
    TrainingSettings settings = TrainingSettings::parse(json::parse(base + R"(, "config_type_sigma": {"odd": {"sigma_forces": 0.5}}})"));
    EXPECT_EQ(settings.sigmas_of(keyed[1], 1).forces, 1e3);
    EXPECT_EQ(settings.sigmas_of(frames[1], 1).forces, 0.5);
    EXPECT_EQ(settings.sigmas_of(frames[1], 1).energy, 1e-7);  // not given for the type: the global one
    EXPECT_EQ(settings.sigmas_of(frames[0], 0).forces, 1e-7);
    keyed[3].info["force_sigma"] = "-1";
    try {
        train_sparse_gpr(keyed, settings);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("structure 3: force_sigma='-1' is not a positive number"), std::string::npos) << e.what();
    }
}

// Labels made of a linear target plus a ZBL core repulsion: a fit with the same repulsion fits the
// rest exactly and so reproduces them; without it, the steep pair term cannot be fitted.
TEST(Trainer, FitsTheLabelsMinusTheCoreRepulsion) {
    auto d = create_descriptor(acsf);
    const int64_t nf = d->feature_count();
    const std::vector<double> a = wave(nf, 0.9, 0.4);
    const char* repulsion = R"({"type": "zbl", "inner": 1.7, "outer": 2.2})";
    SpeciesWeights silicon;  // no references: the model is its repulsion alone
    silicon.species = 14;
    const Model pairs_only = Model(parse_json(acsf), Kernel::from_json(parse_json(R"({"type": "linear"})")), {silicon})
                                 .with_repulsion(std::make_shared<const CoreRepulsion>(parse_json(repulsion), d->cutoff()));
    auto add_repulsion = [&](std::vector<Frame> frames) {
        for (Frame& f : frames) {
            const NeighbourList list = neighbours_of(f, d->cutoff());
            double e = 0.0;
            std::vector<double> forces(3 * f.size());
            pairs_only.predict(list.view(), &e, nullptr, forces.data(), nullptr);
            EXPECT_GT(e, 0.01);  // every structure holds pairs inside the repulsion
            *f.energy += e;
            for (std::size_t k = 0; k < forces.size(); ++k) f.forces[k] += forces[k];
        }
        return frames;
    };
    const std::vector<Frame> train = add_repulsion(dataset(30, 100, *d, a, false)), test = add_repulsion(dataset(5, 700, *d, a, false));
    const std::string base = std::string(R"({"descriptor": )") + acsf +
                             R"(, "kernel": {"type": "linear"}, "sparse_per_species": 150, "sigma_energy": 1e-7, "sigma_forces": 1e-7,
                                "baselines": {"Si": 0})";
    TrainingSummary with_summary, without_summary;
    const Model with = train_sparse_gpr(train, TrainingSettings::parse(json::parse(base + ", \"repulsion\": " + repulsion + "}")), &with_summary);
    ASSERT_NE(with.repulsion(), nullptr);
    EXPECT_EQ(with.metadata().at("settings").at("repulsion"), parse_json(repulsion));
    expect_predicts_labels(with, test);
    train_sparse_gpr(train, TrainingSettings::parse(json::parse(base + "}")), &without_summary);
    EXPECT_GT(without_summary.training.force_rmse, 100.0 * with_summary.training.force_rmse);
    // Saved and loaded, the model keeps its repulsion (a version-3 file: it has a covariance too)
    // and predicts the same.
    const std::string bytes = serialize_model(with);
    EXPECT_EQ(static_cast<unsigned char>(bytes[8]), 3);
    expect_same_energies(with, deserialize_model(bytes, "memory"), test);
    EXPECT_THROW(train_sparse_gpr(train, TrainingSettings::parse(json::parse(base + R"(, "repulsion": {"type": "zbl", "inner": 1, "outer": 4.5}})"))),
                 Error);  // beyond the descriptor's cutoff of 4 Å
    EXPECT_THROW(TrainingSettings::parse(json::parse(base + R"(, "repulsion": {"type": "zbl", "inner": 2, "outer": 1}})")), Error);
}

TEST(Trainer, SettingsNameLabelKeysAndRefuseSigmasOfUnfittedQuantities) {
    const std::string base = std::string(R"({"descriptor": )") + acsf;
    const TrainingSettings keyed = TrainingSettings::parse(json::parse(
        base + R"(, "energy_key": "REF_energy", "forces_key": "REF_forces", "stress_key": "REF_stress", "virial_key": "REF_virial"})"));
    EXPECT_EQ(keyed.labels.energy, "REF_energy");
    EXPECT_EQ(keyed.labels.forces, "REF_forces");
    EXPECT_EQ(keyed.labels.stress, "REF_stress");
    EXPECT_EQ(keyed.labels.virial, "REF_virial");
    auto message = [&](const std::string& rest) {
        try {
            TrainingSettings::parse(json::parse(base + rest));
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(message(R"(, "sigma_virial": 0.01})").find("'training.sigma_virial' is given but virials are not fitted (use_virials is false)"),
              std::string::npos)
        << message(R"(, "sigma_virial": 0.01})");
    EXPECT_NE(message(R"(, "use_forces": false, "sigma_forces": 0.1})").find("use_forces is false"), std::string::npos);
    EXPECT_NE(message(R"(, "config_type_sigma": {"liquid": {"sigma_virial": 0.1}}})").find("config_type_sigma.liquid.sigma_virial"),
              std::string::npos)
        << message(R"(, "config_type_sigma": {"liquid": {"sigma_virial": 0.1}}})");
    EXPECT_NE(message(R"(, "config_type_sigma": {"liquid": {"sigma_force": 0.1}}})").find("sigma_force"), std::string::npos);
    EXPECT_NE(message(R"(, "config_type_sigma": {"liquid": {"sigma_forces": -1}}})"), "no error");
    EXPECT_NE(message(R"(, "config_type_sigma": [1]})"), "no error");
    EXPECT_EQ(message(R"(, "use_virials": true, "sigma_virial": 0.01, "config_type_sigma": {"liquid": {"sigma_virial": 0.1}}})"),
              "no error");

    // The settings a model records parse back to the same settings.
    const TrainingSettings rich = TrainingSettings::parse(json::parse(
        base + R"(, "use_virials": true, "sigma_virial": 0.02, "selection": "cur", "kernel": {"type": "polynomial", "zeta": 3},
                  "config_type_sigma": {"liquid": {"sigma_forces": 0.3}}, "baselines": {"C": -1.5}, "learned_species": ["Si"],
                  "energy_key": "E", "jitter": 1e-9})"));
    const json recorded = rich.to_json();
    EXPECT_EQ(TrainingSettings::parse(recorded).to_json(), recorded);
    EXPECT_EQ(recorded.at("config_type_sigma").at("liquid").at("sigma_forces"), 0.3);
    EXPECT_EQ(recorded.at("config_type_sigma").at("liquid").at("sigma_virial"), 0.02);
    EXPECT_EQ(recorded.at("energy_key"), "E");

    // Virials are fitted where a structure has one; none at all is an error naming the keys.
    auto d = create_descriptor(acsf);
    std::vector<double> zero(d->feature_count(), 0.0);
    std::vector<Frame> frames = dataset(4, 1, *d, zero);
    const TrainingSettings with_virials = TrainingSettings::parse(json::parse(base + R"(, "use_virials": true, "sparse_per_species": 4})"));
    try {
        train_sparse_gpr(frames, with_virials);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no structure has a 'virial' or a 'stress'"), std::string::npos) << e.what();
    }
    frames[1].virial = Mat3{};
    frames[3].stress = Mat3{};
    TrainingSummary summary;
    train_sparse_gpr(frames, with_virials, &summary);
    EXPECT_EQ(summary.n_virial_rows, 18);
    // A missing label names the structure, its type and the key.
    frames[2].energy.reset();
    frames[2].info["config_type"] = "slab";
    try {
        train_sparse_gpr(frames, keyed);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("structure 2 (config_type slab) has no energy: no key 'REF_energy'"), std::string::npos)
            << e.what();
    }
}

// With learned_species only the carbon environments of CH4-like clusters carry learned energies:
// a target linear in the carbon features is recovered, hydrogen gets an empty block (its
// baseline only), and data without any learned species is refused.
TEST(Trainer, LearnsOnlyTheListedCentralSpecies) {
    const char* spec = R"({"type": "acsf", "species": [1, 6], "cutoff": 3.5, "preset": "imbalzano2018"})";
    auto d = create_descriptor(spec);
    const int64_t nf = d->feature_count();
    const std::vector<double> a = wave(nf, 1.3, 0.2);
    std::mt19937 generator(17);
    std::normal_distribution<double> normal(0.0, 0.12);
    auto methane = [&](bool with_forces) {
        const double tetrahedron[4][3] = {{1, 1, 1}, {1, -1, -1}, {-1, 1, -1}, {-1, -1, 1}};
        Frame f;
        f.species = {6, 1, 1, 1, 1};
        f.positions = {0.0, 0.0, 0.0};
        for (const auto& v : tetrahedron)
            for (int k = 0; k < 3; ++k) f.positions.push_back(1.09 / std::sqrt(3.0) * v[k] + normal(generator));
        const NeighbourList list = neighbours_of(f, d->cutoff());
        const auto features = features_of(*d, list.view());
        const auto per_atom = per_atom_gradients(list.view(), gradients_of(*d, list.view()), nf, 5);
        f.energy = 0.0;
        for (int64_t k = 0; k < nf; ++k) *f.energy += a[k] * features[k];  // centre 0 is the carbon
        if (with_forces) {
            f.forces.assign(15, 0.0);
            for (int64_t j = 0; j < 5; ++j)
                for (int alpha = 0; alpha < 3; ++alpha)
                    for (int64_t k = 0; k < nf; ++k) f.forces[3 * j + alpha] -= a[k] * per_atom[((0 * 5 + j) * 3 + alpha) * nf + k];
        }
        return f;
    };
    std::vector<Frame> train_set, test_set;
    for (int i = 0; i < 120; ++i) train_set.push_back(methane(true));
    for (int i = 0; i < 10; ++i) test_set.push_back(methane(true));

    const std::string config = std::string(R"({"descriptor": )") + spec +
                               R"(, "kernel": {"type": "linear"}, "sparse_per_species": 100, "sigma_energy": 1e-7,
                                   "sigma_forces": 1e-7, "baselines": {"H": 0, "C": 0}, "learned_species": ["C"]})";
    TrainingSummary summary;
    const Model model = train(train_set, TrainingSettings::parse(json::parse(config)), &summary);
    EXPECT_EQ(summary.n_sparse.at(6), 100);
    EXPECT_EQ(summary.n_sparse.at(1), 0);
    ASSERT_EQ(model.species(), (std::vector<int32_t>{1, 6}));
    for (const Frame& f : test_set) {
        const NeighbourList list = neighbours_of(f, model.cutoff());
        double energy = 0.0, centres[5];
        std::vector<double> forces(15);
        model.predict(list.view(), &energy, centres, forces.data(), nullptr);
        EXPECT_NEAR(energy, *f.energy, 1e-5);  // energies ~0.1 eV
        for (int i = 1; i < 5; ++i) EXPECT_EQ(centres[i], 0.0);  // hydrogen: baseline only
        for (std::size_t k = 0; k < forces.size(); ++k) EXPECT_NEAR(forces[k], f.forces[k], 1e-5);
    }

    // An empty block survives the model file.
    const std::string path = "learned_species_model.afp";
    save_model(model, path);
    const Model loaded = load_model(path);
    std::remove(path.c_str());
    ASSERT_EQ(loaded.species(), model.species());
    {
        const NeighbourList list = neighbours_of(test_set[0], model.cutoff());
        double e1 = 0.0, e2 = 0.0;
        model.predict(list.view(), &e1, nullptr, nullptr, nullptr);
        loaded.predict(list.view(), &e2, nullptr, nullptr, nullptr);
        EXPECT_EQ(e1, e2);
    }

    // Kernel ridge regression the same way: only carbon environments become references.
    const std::string krr = std::string(R"({"descriptor": )") + spec +
                            R"(, "method": "krr", "kernel": {"type": "squared_exponential", "gamma": 0.5}, "use_forces": false,
                                "sigma_energy": 1e-4, "baselines": {"H": 0, "C": 0}, "learned_species": [6]})";
    const Model krr_model = train(train_set, TrainingSettings::parse(json::parse(krr)), &summary);
    EXPECT_EQ(summary.n_sparse.at(6), 120);
    EXPECT_EQ(summary.n_sparse.at(1), 0);

    const std::string silicon = std::string(R"({"descriptor": )") + spec + R"(, "learned_species": ["Si"]})";
    try {
        train(train_set, TrainingSettings::parse(json::parse(silicon)));
        FAIL() << "no learned species in the data was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("learned_species"), std::string::npos) << e.what();
    }
    EXPECT_THROW(TrainingSettings::parse(json::parse(std::string(R"({"descriptor": )") + spec + R"(, "learned_species": ["Xx"]})")),
                 Error);
    EXPECT_THROW(TrainingSettings::parse(json::parse(std::string(R"({"descriptor": )") + spec + R"(, "learned_species": []})")),
                 Error);
}

// Features taken from the cache give the fit fresh features give, bit for bit; a structure that
// differs in one coordinate is computed anew.
TEST(Trainer, FeatureCacheGivesTheFitOfFreshFeatures) {
    auto d = create_descriptor(acsf);
    std::vector<double> a(d->feature_count(), 0.05);
    const std::vector<Frame> frames = dataset(8, 300, *d, a);
    TrainingSettings settings = TrainingSettings::parse(json::parse(std::string(R"({"descriptor": )") + acsf +
        R"(, "sparse_per_species": 20, "kernel": {"type": "polynomial", "zeta": 2}})"));
    const Model fresh = train(frames, settings);
    settings.feature_cache = std::make_shared<FeatureCache>();
    const Model filling = train(frames, settings);
    EXPECT_EQ(settings.feature_cache->size(), frames.size());
    const Model cached = train(frames, settings);
    for (const Model* m : {&filling, &cached})
        for (std::size_t b = 0; b < fresh.blocks().size(); ++b) EXPECT_EQ(m->blocks()[b].weights, fresh.blocks()[b].weights);
    std::vector<Frame> moved = frames;
    moved[3].positions[7] += 1e-9;
    train(moved, settings);
    EXPECT_EQ(settings.feature_cache->size(), frames.size() + 1);
}

// Cross-validation on energies only predicts from cached features; its errors equal those of
// fold models trained and predicted from scratch (the same shuffle, by construction of the folds).
TEST(Trainer, EnergyOnlyCrossValidationEqualsFoldsPredictedFromScratch) {
    auto d = create_descriptor(acsf);
    std::vector<double> a(d->feature_count(), 0.02);
    std::vector<Frame> frames = dataset(9, 60, *d, a);
    for (Frame& f : frames) f.forces.clear();
    const TrainingSettings settings = TrainingSettings::parse(json::parse(std::string(R"({"descriptor": )") + acsf +
        R"(, "method": "krr", "use_forces": false, "kernel": {"type": "squared_exponential", "gamma": 0.3}})"));
    const int folds = 3;
    const uint64_t seed = 11;
    const CrossValidation cv = cross_validate(frames, settings, folds, seed);
    std::vector<std::size_t> order(frames.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::mt19937_64 generator(seed);
    std::shuffle(order.begin(), order.end(), generator);
    for (int k = 0; k < folds; ++k) {
        std::vector<Frame> train_set, held_out;
        for (std::size_t r = 0; r < order.size(); ++r) (static_cast<int>(r % folds) == k ? held_out : train_set).push_back(frames[order[r]]);
        TrainingSummary summary;
        const Model model = train(train_set, settings, &summary);
        // The training errors come from the features computed for the fit.
        const ErrorMetrics training = compare(train_set, predict_frames(model, train_set, false, false));
        EXPECT_NEAR(summary.training.energy_rmse_per_atom, training.energy_rmse_per_atom, 1e-12 * (1.0 + training.energy_rmse_per_atom));
        const ErrorMetrics direct = compare(held_out, predict_frames(model, held_out, false, false));
        EXPECT_NEAR(cv.folds[k].energy_rmse_per_atom, direct.energy_rmse_per_atom, 1e-12 * (1.0 + direct.energy_rmse_per_atom));
        EXPECT_EQ(cv.folds[k].n_energies, direct.n_energies);
    }
}

// A target linear in normalised SOAP features with its own vector per species, on zincblende SiC
// cells: energies, forces (from the gradient blocks) and virials (from central differences of the
// energy under strain, W = -dE/d(strain)) are recovered on structures not trained on. The force and
// virial rows of this descriptor come from projections split by neighbour species.
TEST(Trainer, RecoversASoapTargetWithForcesAndVirialsOfTwoSpecies) {
    const char* spec = R"({"type": "soap_power_spectrum", "species": [6, 14], "cutoff": 4.0, "max_radial": 2, "max_angular": 2})";
    auto d = create_descriptor(spec);
    const int64_t nf = d->feature_count();
    const std::vector<double> a_carbon = wave(nf, 0.7, 0.3), a_silicon = wave(nf, 1.1, M_PI / 2);
    auto a_of = [&](int32_t z) -> const std::vector<double>& { return z == 6 ? a_carbon : a_silicon; };
    auto labelled = [&](int i, uint32_t seed) {
        Structure s = diamond(1, 4.6 + 0.04 * (i % 8), 0.2, seed + i);
        for (int atom = 0; atom < 8; atom += 2) s.species[atom] = 6;
        Frame f = frame_of(s);
        label_linear_by_species(f, *d, a_of);
        Mat3 virial{};
        const double h = 1e-5;
        for (int p = 0; p < 3; ++p)
            for (int q = 0; q < 3; ++q) {
                double e[2];
                for (int side = 0; side < 2; ++side) {
                    Frame strained = f;
                    const double eps = side == 0 ? h : -h;
                    for (int64_t atom = 0; atom < f.size(); ++atom) strained.positions[3 * atom + p] += eps * f.positions[3 * atom + q];
                    for (int row = 0; row < 3; ++row) (*strained.cell)[3 * row + p] += eps * (*f.cell)[3 * row + q];
                    label_linear_by_species(strained, *d, a_of);
                    e[side] = *strained.energy;
                }
                virial[3 * p + q] = -(e[0] - e[1]) / (2.0 * h);
            }
        f.virial = virial;
        return f;
    };
    std::vector<Frame> train_set, test_set;
    for (int i = 0; i < 40; ++i) train_set.push_back(labelled(i, 300));
    for (int i = 0; i < 4; ++i) test_set.push_back(labelled(i, 900));

    const std::string config = std::string(R"({"descriptor": )") + spec +
                               R"(, "kernel": {"type": "linear"}, "sparse_per_species": 80, "sigma_energy": 1e-7,
                                   "sigma_forces": 1e-7, "sigma_virial": 1e-7, "use_virials": true, "baselines": {"Si": 0, "C": 0}})";
    TrainingSummary summary;
    const Model model = train(train_set, TrainingSettings::parse(json::parse(config)), &summary);
    EXPECT_EQ(summary.n_virial_rows, 40 * 9);
    expect_predicts_labels(model, test_set);
}

// ---- predictive variance ------------------------------------------------------------------------

namespace {

// The inverse of a symmetric positive definite matrix by Gauss-Jordan elimination in long double.
std::vector<double> inverse(std::vector<double> a, int64_t n) {
    std::vector<long double> m(a.begin(), a.end()), inv(n * n, 0.0L);
    for (int64_t i = 0; i < n; ++i) inv[i * n + i] = 1.0L;
    for (int64_t col = 0; col < n; ++col) {
        int64_t pivot = col;
        for (int64_t r = col + 1; r < n; ++r)
            if (std::abs(m[r * n + col]) > std::abs(m[pivot * n + col])) pivot = r;
        for (int64_t k = 0; k < n; ++k) {
            std::swap(m[col * n + k], m[pivot * n + k]);
            std::swap(inv[col * n + k], inv[pivot * n + k]);
        }
        const long double d = m[col * n + col];
        for (int64_t k = 0; k < n; ++k) {
            m[col * n + k] /= d;
            inv[col * n + k] /= d;
        }
        for (int64_t r = 0; r < n; ++r) {
            if (r == col) continue;
            const long double f = m[r * n + col];
            for (int64_t k = 0; k < n; ++k) {
                m[r * n + k] -= f * m[col * n + k];
                inv[r * n + k] -= f * inv[col * n + k];
            }
        }
    }
    return std::vector<double>(inv.begin(), inv.end());
}

double quadratic_form(const std::vector<double>& A, const std::vector<double>& x) {
    const std::size_t n = x.size();
    long double sum = 0.0L;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) sum += static_cast<long double>(x[i]) * A[i * n + j] * x[j];
    return static_cast<double>(sum);
}

// The projected-process GP written out for an energy-only fit: every matrix formed and inverted
// explicitly (no QR, no triangular solves), from the model's references and the kernel.
struct BruteForceGp {
    const Model& model;
    std::vector<int64_t> offset;
    std::vector<std::vector<double>> prepared;  // per block
    std::vector<double> prior_inverse;          // K̃⁻¹, block diagonal, [M][M]
    std::vector<double> covariance;             // (K̃ + Φᵀ Σ⁻¹ Φ)⁻¹
    std::vector<double> weights;                // its mean

    // Per block, the kernel rows of the structure's centres of that block, and the block of each centre.
    void kernel_rows(const Frame& f, std::vector<std::vector<double>>& rows, std::vector<std::size_t>& block_of) const {
        const NeighbourList list = neighbours_of(f, model.cutoff());
        const std::vector<double> features = features_of(model.descriptor(), list.view());
        const int64_t nf = model.descriptor().feature_count();
        rows.assign(f.size(), {});
        block_of.assign(f.size(), 0);
        for (int64_t c = 0; c < f.size(); ++c) {
            std::size_t b = 0;
            while (model.blocks()[b].species != f.species[c]) ++b;
            const int64_t m = offset[b + 1] - offset[b];
            rows[c].resize(m);
            model.kernel().matrix(1, features.data() + c * nf, m, prepared[b].data(), nf, rows[c].data());
            block_of[c] = b;
        }
    }

    BruteForceGp(const Model& m, const std::vector<Frame>& frames, double sigma_energy, double jitter) : model(m) {
        const int64_t nf = model.descriptor().feature_count();
        offset = {0};
        for (const SpeciesWeights& b : model.blocks()) {
            const int64_t mb = static_cast<int64_t>(b.weights.size());
            offset.push_back(offset.back() + mb);
            prepared.push_back(b.references);
            model.kernel().prepare_references(mb, nf, prepared.back().data());
        }
        const int64_t M = offset.back();
        std::vector<double> prior(M * M, 0.0);
        for (std::size_t b = 0; b < prepared.size(); ++b) {
            const int64_t mb = offset[b + 1] - offset[b];
            std::vector<double> K(mb * mb);
            model.kernel().matrix(mb, prepared[b].data(), mb, prepared[b].data(), nf, K.data());
            double mean_diagonal = 0.0;
            for (int64_t i = 0; i < mb; ++i) mean_diagonal += K[i * mb + i] / static_cast<double>(mb);
            for (int64_t i = 0; i < mb; ++i) {
                for (int64_t j = 0; j < mb; ++j) prior[(offset[b] + i) * M + offset[b] + j] = K[i * mb + j];
                prior[(offset[b] + i) * M + offset[b] + i] += jitter * mean_diagonal;
            }
        }
        prior_inverse = inverse(prior, M);
        std::vector<double> precision = prior, projected(M, 0.0);
        for (const Frame& f : frames) {
            std::vector<std::vector<double>> rows;
            std::vector<std::size_t> block_of;
            kernel_rows(f, rows, block_of);
            std::vector<double> phi(M, 0.0);
            double target = *f.energy;
            for (int64_t c = 0; c < f.size(); ++c) {
                for (std::size_t j = 0; j < rows[c].size(); ++j) phi[offset[block_of[c]] + j] += rows[c][j];
                target -= model.blocks()[block_of[c]].baseline;
            }
            const double noise = sigma_energy * sigma_energy * static_cast<double>(f.size());
            for (int64_t i = 0; i < M; ++i) {
                projected[i] += phi[i] * target / noise;
                for (int64_t j = 0; j < M; ++j) precision[i * M + j] += phi[i] * phi[j] / noise;
            }
        }
        covariance = inverse(precision, M);
        weights.assign(M, 0.0);
        for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < M; ++j) weights[i] += covariance[i * M + j] * projected[j];
    }

    // Var e_c per centre and Var E of the structure.
    void variances(const Frame& f, std::vector<double>& centres, double& total) const {
        std::vector<std::vector<double>> rows;
        std::vector<std::size_t> block_of;
        kernel_rows(f, rows, block_of);
        const NeighbourList list = neighbours_of(f, model.cutoff());
        const std::vector<double> features = features_of(model.descriptor(), list.view());
        const int64_t nf = model.descriptor().feature_count(), M = offset.back(), n = f.size();
        std::vector<double> unit = features;
        model.kernel().prepare_references(n, nf, unit.data());
        auto prior_k = [&](int64_t c, int64_t d) {
            if (block_of[c] != block_of[d]) return 0.0;  // species are independent GPs
            double k = 0.0;
            model.kernel().matrix(1, features.data() + c * nf, 1, unit.data() + d * nf, nf, &k);
            return k;
        };
        std::vector<double> sum(M, 0.0);
        double prior_total = 0.0;
        centres.assign(n, 0.0);
        for (int64_t c = 0; c < n; ++c) {
            std::vector<double> placed(M, 0.0);
            for (std::size_t j = 0; j < rows[c].size(); ++j) placed[offset[block_of[c]] + j] = rows[c][j];
            for (int64_t i = 0; i < M; ++i) sum[i] += placed[i];
            centres[c] = prior_k(c, c) - quadratic_form(prior_inverse, placed) + quadratic_form(covariance, placed);
            for (int64_t d = 0; d < n; ++d) prior_total += prior_k(c, d);
        }
        total = prior_total - quadratic_form(prior_inverse, sum) + quadratic_form(covariance, sum);
    }
};

}  // namespace

// The variances a fitted model predicts equal the projected-process posterior formed and inverted
// explicitly (two species, energies only), per centre and for the whole structure.
TEST(PredictiveVariance, EqualsTheBruteForceProjectedProcessPosterior) {
    auto d = create_descriptor(acsf);
    const std::vector<Frame> frames = dataset(14, 500, *d, wave(d->feature_count(), 0.37, 0.2));
    const double sigma_energy = 0.01, jitter = 1e-8;
    const std::string config = std::string(R"({"descriptor": )") + acsf +
                               R"(, "kernel": {"type": "polynomial", "zeta": 2}, "sparse_per_species": 10,
                                    "use_forces": false, "sigma_energy": 0.01, "jitter": 1e-8})";
    const Model model = train(frames, TrainingSettings::parse(json::parse(config)));
    ASSERT_NE(model.covariance(), nullptr);
    const BruteForceGp gp(model, frames, sigma_energy, jitter);
    // The brute-force posterior mean is the model's weights: the design rows are the same.
    for (std::size_t b = 0; b < model.blocks().size(); ++b) {
        for (std::size_t j = 0; j < model.blocks()[b].weights.size(); ++j) {
            EXPECT_NEAR(model.blocks()[b].weights[j], gp.weights[gp.offset[b] + j], 1e-7 * (1.0 + std::abs(gp.weights[gp.offset[b] + j])));
        }
    }
    std::vector<Frame> unseen = dataset(3, 900, *d, wave(d->feature_count(), 0.37, 0.2));
    unseen.push_back(frames[2]);
    for (const Frame& f : unseen) {
        std::vector<double> expected;
        double expected_total = 0.0;
        gp.variances(f, expected, expected_total);
        const NeighbourList list = neighbours_of(f, model.cutoff());
        std::vector<double> centres(f.size());
        double total = 0.0;
        model.predict_variance(list.view(), centres.data(), &total);
        for (int64_t c = 0; c < f.size(); ++c) {
            EXPECT_NEAR(centres[c], expected[c], 1e-8) << c;
            EXPECT_GT(centres[c], 0.0);
            EXPECT_LT(centres[c], 1.0 + 1e-12);  // never above the prior k(c, c) = 1
        }
        EXPECT_NEAR(total, expected_total, 1e-8);
        EXPECT_GT(total, 0.0);
    }
}

TEST(PredictiveVariance, IsAbsentWhenNotKeptAndForKernelRidge) {
    auto d = create_descriptor(acsf);
    const std::vector<Frame> frames = dataset(6, 40, *d, wave(d->feature_count(), 0.5, 0.0));
    const std::string base = std::string(R"({"descriptor": )") + acsf + R"(, "sparse_per_species": 8)";
    const Model without = train(frames, TrainingSettings::parse(json::parse(base + R"(, "predictive_variance": false})")));
    EXPECT_EQ(without.covariance(), nullptr);
    const NeighbourList list = neighbours_of(frames[0], without.cutoff());
    double total = 0.0;
    try {
        without.predict_variance(list.view(), nullptr, &total);
        ADD_FAILURE() << "a model without a covariance predicted a variance";
    } catch (const Error& e) {
        EXPECT_EQ(e.status(), Status::not_available);
        EXPECT_NE(std::string(e.what()).find("no posterior covariance"), std::string::npos) << e.what();
    }
    const Model krr = train(frames, TrainingSettings::parse(json::parse(
                                        std::string(R"({"descriptor": )") + acsf + R"(, "method": "krr", "use_forces": false})")));
    EXPECT_EQ(krr.covariance(), nullptr);
}

// Coverage, likelihood and the maximum-likelihood scale of a hand-made set of errors and variances.
TEST(PredictiveVariance, CalibrationStatisticsOfKnownErrors) {
    // errors 0.5, 1.5, 3, 0.1 sigma (sigma = 2, 1, 1, 10); one structure without a variance is skipped.
    const double errors[5] = {1.0, 1.5, 3.0, 1.0, 7.0}, variances[4] = {4.0, 1.0, 1.0, 100.0};
    std::vector<Frame> frames(5);
    std::vector<FramePrediction> predictions(5);
    for (int a = 0; a < 5; ++a) {
        frames[a].energy = 10.0;
        predictions[a].energy = 10.0 + errors[a];
        if (a < 4) predictions[a].energy_variance = variances[a];
    }
    const Calibration c = calibrate(frames, predictions);
    EXPECT_EQ(c.n, 4);
    EXPECT_DOUBLE_EQ(c.within_one_sigma, 0.5);  // 0.5 and 0.1 sigma
    EXPECT_DOUBLE_EQ(c.within_two_sigma, 0.75);
    const double z2[4] = {0.25, 2.25, 9.0, 0.01};
    double nll = 0.0, scale = 0.0;
    for (int a = 0; a < 4; ++a) {
        nll += 0.5 * (std::log(2.0 * M_PI * variances[a]) + z2[a]) / 4.0;
        scale += z2[a] / 4.0;
    }
    EXPECT_NEAR(c.mean_negative_log_likelihood, nll, 1e-14);
    EXPECT_NEAR(c.likelihood_scale, scale, 1e-14);
    // Scaled by its maximum-likelihood scale, the variances are maximum-likelihood ones, and the
    // likelihood is the largest of the scales around it.
    const Calibration best = rescaled(c, c.likelihood_scale);
    EXPECT_NEAR(best.likelihood_scale, 1.0, 1e-14);
    EXPECT_LT(best.mean_negative_log_likelihood, rescaled(c, 0.9 * c.likelihood_scale).mean_negative_log_likelihood);
    EXPECT_LT(best.mean_negative_log_likelihood, rescaled(c, 1.1 * c.likelihood_scale).mean_negative_log_likelihood);
    EXPECT_DOUBLE_EQ(rescaled(c, 9.0).within_one_sigma, 1.0);  // every |z| <= 3 sigma
}

// ---- extrapolation flags ------------------------------------------------------------------------

// The ranges a fit stores are the per-species minima and maxima of its training features computed
// here; training structures never leave them; a compressed cell does, counted as written out here;
// the ranges survive the model file and the C API reports the same flags.
TEST(Extrapolation, RangesAreThoseOfTheTrainingEnvironmentsAndFlagWhatLeavesThem) {
    auto d = create_descriptor(acsf);
    const std::vector<Frame> frames = dataset(8, 300, *d, wave(d->feature_count(), 0.3, 0.1));
    const Model model = train(frames, TrainingSettings::parse(json::parse(std::string(R"({"descriptor": )") + acsf +
                                                                          R"(, "sparse_per_species": 12})")));
    ASSERT_TRUE(model.has_feature_ranges());
    const int64_t nf = d->feature_count();
    std::map<int32_t, std::pair<std::vector<double>, std::vector<double>>> expected;
    for (const Frame& f : frames) {
        const NeighbourList list = neighbours_of(f, d->cutoff());
        const std::vector<double> features = features_of(*d, list.view());
        for (int64_t c = 0; c < f.size(); ++c) {
            auto& [lo, hi] = expected[f.species[c]];
            if (lo.empty()) {
                lo.assign(features.begin() + c * nf, features.begin() + (c + 1) * nf);
                hi = lo;
            }
            for (int64_t k = 0; k < nf; ++k) {
                lo[k] = std::min(lo[k], features[c * nf + k]);
                hi[k] = std::max(hi[k], features[c * nf + k]);
            }
        }
    }
    for (const SpeciesWeights& b : model.blocks()) {
        EXPECT_EQ(b.feature_min, expected.at(b.species).first) << b.species;
        EXPECT_EQ(b.feature_max, expected.at(b.species).second) << b.species;
    }
    for (const Frame& f : frames) {
        for (const Extrapolation& e : model.extrapolation(neighbours_of(f, d->cutoff()).view())) {
            EXPECT_EQ(e.features_outside, 0);
            EXPECT_EQ(e.largest_excess, 0.0);
        }
    }
    Structure squeezed = diamond(1, 4.3, 0.1, 77);
    squeezed.species[2] = 6;
    const Frame compressed = frame_of(squeezed);
    const NeighbourList list = neighbours_of(compressed, d->cutoff());
    const std::vector<Extrapolation> flags = model.extrapolation(list.view());
    const std::vector<double> features = features_of(*d, list.view());
    int64_t total = 0;
    for (int64_t c = 0; c < compressed.size(); ++c) {
        const auto& [lo, hi] = expected.at(compressed.species[c]);
        int64_t outside = 0;
        double excess = 0.0;
        for (int64_t k = 0; k < nf; ++k) {
            const double x = features[c * nf + k], width = hi[k] > lo[k] ? hi[k] - lo[k] : 1.0;
            if (x > hi[k] || x < lo[k]) ++outside;
            if (x > hi[k]) excess = std::max(excess, (x - hi[k]) / width);
            if (x < lo[k]) excess = std::max(excess, (lo[k] - x) / width);
        }
        EXPECT_EQ(flags[c].features_outside, outside) << c;
        EXPECT_NEAR(flags[c].largest_excess, excess, 1e-12 * (1.0 + excess)) << c;
        total += outside;
    }
    EXPECT_GT(total, 0);
    // Through the file and the C API.
    const std::string bytes = serialize_model(model);
    EXPECT_EQ(static_cast<unsigned char>(bytes[8]), 3);
    const Model loaded = deserialize_model(bytes, "memory");
    EXPECT_EQ(loaded.blocks()[0].feature_min, model.blocks()[0].feature_min);
    const std::string path = std::string(::testing::TempDir()) + "atomfp_extrapolation.afp";
    save_model(model, path);
    atomfp_model_t* handle = nullptr;
    ASSERT_EQ(atomfp_model_load(path.c_str(), &handle), ATOMFP_OK);
    std::remove(path.c_str());
    const SystemView view = list.view();
    atomfp_system_t system;
    std::memcpy(&system, &view, sizeof system);
    std::vector<int64_t> outside(compressed.size(), -1);
    std::vector<double> excess(compressed.size(), -1.0);
    ASSERT_EQ(atomfp_model_extrapolation(handle, &system, outside.data(), excess.data()), ATOMFP_OK) << atomfp_last_error();
    for (int64_t c = 0; c < compressed.size(); ++c) {
        EXPECT_EQ(outside[c], flags[c].features_outside);
        EXPECT_EQ(excess[c], flags[c].largest_excess);
    }
    EXPECT_EQ(atomfp_model_extrapolation(handle, &system, nullptr, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_model_extrapolation(nullptr, &system, outside.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_model_extrapolation(handle, nullptr, outside.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    std::vector<double> nan_positions(system.positions, system.positions + 3 * system.n_atoms);
    nan_positions[4] = std::nan("");
    atomfp_system_t nan_system = system;
    nan_system.positions = nan_positions.data();
    std::fill(outside.begin(), outside.end(), -7);
    EXPECT_EQ(atomfp_model_extrapolation(handle, &nan_system, outside.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    for (int64_t k : outside) EXPECT_EQ(k, -7);  // untouched
    atomfp_model_free(handle);
    // A model without ranges says so.
    std::vector<SpeciesWeights> blocks = model.blocks();
    for (SpeciesWeights& b : blocks) b.feature_min.clear(), b.feature_max.clear();
    const Model bare(model.descriptor().parameters(), model.kernel(), blocks);
    EXPECT_FALSE(bare.has_feature_ranges());
    try {
        bare.extrapolation(list.view());
        ADD_FAILURE() << "extrapolation without ranges";
    } catch (const Error& e) {
        EXPECT_EQ(e.status(), Status::not_available);
    }
}
