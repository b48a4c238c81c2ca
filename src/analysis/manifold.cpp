#include "analysis/manifold.hpp"

#include "analysis/superposition.hpp"
#include "core/error.hpp"
#include "core/json_spec.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace atomfp {

ManifoldOptions ManifoldOptions::parse(const std::string& json_text) {
    ManifoldOptions o;
    const json parsed = json_text.empty() ? json::object() : parse_json(json_text);
    if (!parsed.is_object()) fail(Status::json_error, "manifold options must be a JSON object");
    SpecReader r(parsed, "manifold options");
    o.steps = r.integer("steps", o.steps, 0, 1000000);
    o.step = r.number("step", o.step, 0.0, 1.0, true);
    o.min_step = r.number("min_step", o.min_step, 0.0, 1.0, true);
    o.max_step = r.number("max_step", o.max_step, 0.0, 1.0, true);
    o.tolerance = r.number("tolerance", o.tolerance, 0.0, 1.0, true);
    o.mode = r.integer("mode", o.mode, 0);
    o.scale_max = r.boolean("scale_max", o.scale_max);
    o.stop_at_loop = r.boolean("stop_at_loop", o.stop_at_loop);
    o.loop_tolerance = r.number("loop_tolerance", o.loop_tolerance, 0.0, 1.0, true);
    o.random_samples = r.integer("random_samples", o.random_samples, 0, 100000);
    o.seed = static_cast<uint64_t>(r.integer("seed", static_cast<int64_t>(o.seed), 0));
    o.permutations = r.boolean("permutations", o.permutations);
    o.corrector = r.boolean("corrector", o.corrector);
    r.finish();
    if (o.min_step > o.max_step) fail(Status::json_error, "manifold options: min_step ", o.min_step, " exceeds max_step ", o.max_step);
    if (o.step < o.min_step || o.step > o.max_step) {
        fail(Status::json_error, "manifold options: step ", o.step, " must lie in [min_step, max_step] = [", o.min_step, ", ",
             o.max_step, "]");
    }
    return o;
}

namespace {

double largest_atomic_move(const std::vector<double>& v) {
    double largest = 0.0;
    for (std::size_t a = 0; a < v.size(); a += 3) largest = std::max(largest, std::hypot(v[a], v[a + 1], v[a + 2]));
    return largest;
}

double distance(const std::vector<double>& a, const std::vector<double>& b) {
    double sum = 0.0;
    for (std::size_t k = 0; k < a.size(); ++k) sum += (a[k] - b[k]) * (a[k] - b[k]);
    return std::sqrt(sum);
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double sum = 0.0;
    for (std::size_t k = 0; k < a.size(); ++k) sum += a[k] * b[k];
    return sum;
}

// The traced descriptor at one configuration: its features, Jacobian and rigid-free spectrum.
struct TracePoint {
    EnvironmentCluster cluster;
    EnvironmentJacobian jacobian;
    std::vector<double> eigenvalues, eigenvectors;  // unscaled, rigid modes first
    int64_t n_rigid = 0;

    TracePoint(const Descriptor& descriptor, EnvironmentCluster c) : cluster(std::move(c)) {
        jacobian = cluster_jacobian(descriptor, cluster);
        n_rigid = sensitivity_spectrum(jacobian, sensitivity_remove_rigid, eigenvalues, &eigenvectors);
    }

    // Unit eigenvector of the (mode + 1)-th softest non-rigid mode, its sign chosen to continue
    // `previous` (or, without one, to make its largest component positive).
    std::vector<double> soft_direction(int64_t mode, const std::vector<double>* previous) const {
        const std::size_t n = 3 * cluster.n_atoms;
        const double* row = eigenvectors.data() + (n_rigid + mode) * n;
        std::vector<double> v(row, row + n);
        double orientation;
        if (previous) {
            orientation = dot(v, *previous);
        } else {
            orientation = *std::max_element(v.begin(), v.end(), [](double a, double b) { return std::abs(a) < std::abs(b); });
        }
        if (orientation < 0.0)
            for (double& x : v) x = -x;
        return v;
    }

    // v minus its rigid-body component at this configuration, normalised.
    std::vector<double> rigid_free(std::vector<double> v) const {
        const std::size_t n = v.size();
        const std::vector<double> rigid = rigid_body_modes(cluster.n_atoms, jacobian.positions.data());
        for (std::size_t r = 0; r < rigid.size() / n; ++r) {
            const double* b = rigid.data() + r * n;
            double d = 0.0;
            for (std::size_t k = 0; k < n; ++k) d += v[k] * b[k];
            for (std::size_t k = 0; k < n; ++k) v[k] -= d * b[k];
        }
        const double norm = std::sqrt(dot(v, v));
        for (double& x : v) x /= norm;
        return v;
    }

    // This configuration moved along `direction` so that the largest atomic move is h.
    EnvironmentCluster moved(const std::vector<double>& direction, double h) const {
        EnvironmentCluster out = cluster;
        const double scale = h / largest_atomic_move(direction);
        for (std::size_t k = 0; k < direction.size(); ++k) out.positions[k] += scale * direction[k];
        return out;
    }
};

// Unit-largest-atomic-move random displacements free of rigid-body components.
std::vector<std::vector<double>> random_directions(const TracePoint& start, int64_t count, uint64_t seed) {
    std::mt19937_64 generator(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<std::vector<double>> directions;
    for (int64_t s = 0; s < count; ++s) {
        std::vector<double> v(3 * start.cluster.n_atoms);
        for (double& x : v) x = normal(generator);
        v = start.rigid_free(std::move(v));
        const double largest = largest_atomic_move(v);
        for (double& x : v) x /= largest;
        directions.push_back(std::move(v));
    }
    return directions;
}

class Recorder {
public:
    Recorder(const Descriptor& traced, const std::vector<const Descriptor*>& probes, const TracePoint& start,
             const ManifoldOptions& options, ManifoldTrace& trace)
        : options_(options), trace_(trace), start_(start.cluster) {
        descriptors_.push_back(&traced);
        descriptors_.insert(descriptors_.end(), probes.begin(), probes.end());
        for (const Descriptor* d : descriptors_) start_features_.push_back(cluster_features(*d, start.cluster));
        directions_ = random_directions(start, options.random_samples, options.seed);
        trace_.n_atoms = start.cluster.n_atoms;
        trace_.n_descriptors = static_cast<int64_t>(descriptors_.size());
        trace_.n_rigid = start.n_rigid;
        trace_.species = start.cluster.species;
    }

    // Appends a frame; returns its displacement D from the start.
    double record(const TracePoint& point, double step_size) {
        const int64_t n = start_.n_atoms;
        trace_.positions.insert(trace_.positions.end(), point.cluster.positions.begin(), point.cluster.positions.end());
        std::vector<double> eigenvalues = point.eigenvalues;
        if (options_.scale_max && eigenvalues.back() > 0.0) {
            const double largest = eigenvalues.back();
            for (double& x : eigenvalues) x /= largest;
        }
        trace_.eigenvalues.insert(trace_.eigenvalues.end(), eigenvalues.begin(), eigenvalues.end());
        // Relabelled by the measure reported, so that D is continuous along the path.
        const double D = superpose(n, start_.positions.data(), point.cluster.positions.data(), start_.species.data(), 1,
                                   options_.permutations, RelabelBy::max_deviation)
                             .max_deviation;
        trace_.displacement.push_back(D);
        trace_.step_sizes.push_back(step_size);
        for (std::size_t d = 0; d < descriptors_.size(); ++d) {
            const std::vector<double>& features =
                d == 0 ? point.jacobian.features : cluster_features(*descriptors_[d], point.cluster);
            trace_.distances.push_back(distance(features, start_features_[d]));
        }
        // The reference: the same random directions at every frame, scaled to this frame's D.
        std::vector<double> mean(descriptors_.size(), 0.0);
        for (const auto& direction : directions_) {
            EnvironmentCluster displaced = start_;
            for (std::size_t k = 0; k < direction.size(); ++k) displaced.positions[k] += D * direction[k];
            for (std::size_t d = 0; d < descriptors_.size(); ++d) {
                mean[d] += distance(cluster_features(*descriptors_[d], displaced), start_features_[d]) /
                           static_cast<double>(directions_.size());
            }
        }
        trace_.random_distances.insert(trace_.random_distances.end(), mean.begin(), mean.end());
        return D;
    }

private:
    const ManifoldOptions& options_;
    ManifoldTrace& trace_;
    EnvironmentCluster start_;
    std::vector<const Descriptor*> descriptors_;
    std::vector<std::vector<double>> start_features_;
    std::vector<std::vector<double>> directions_;
};

}  // namespace

ManifoldTrace trace_manifold(const Descriptor& traced, const std::vector<const Descriptor*>& probes,
                             const SystemView& system, int64_t center, const ManifoldOptions& options) {
    for (const Descriptor* probe : probes)
        if (!probe) fail(Status::invalid_argument, "a probe descriptor is NULL");
    TracePoint point(traced, environment_cluster(system, center, traced.cutoff()));
    const int64_t n = 3 * point.cluster.n_atoms, non_rigid = n - point.n_rigid;
    if (options.mode >= non_rigid) {
        fail(Status::invalid_argument, "manifold mode ", options.mode, " but the environment of centre ", center, " has ",
             non_rigid, " non-rigid modes (", point.cluster.n_atoms, " atoms)");
    }
    if (!(point.eigenvalues.back() > 0.0)) {
        fail(Status::invalid_argument, "the ", traced.type(), " features of centre ", center,
             " do not respond to any motion of its environment");
    }

    ManifoldTrace trace;
    Recorder recorder(traced, probes, point, options, trace);
    recorder.record(point, 0.0);
    double h = options.step, farthest = 0.0;
    std::vector<double> previous;
    for (int64_t step = 0; step < options.steps; ++step) {
        const std::vector<double> v0 = point.soft_direction(options.mode, previous.empty() ? nullptr : &previous);
        const double stiffest = std::sqrt(point.eigenvalues.back());
        if (!options.corrector) {
            previous = point.rigid_free(v0);
            point = TracePoint(traced, point.moved(previous, h));
            farthest = std::max(farthest, recorder.record(point, h));
        }
        while (options.corrector) {
            // Predictor: an Euler step along the soft mode; corrector: the step along the mean of
            // the soft modes at both ends (Heun), made rigid-free again at the start point.
            const TracePoint predicted(traced, point.moved(v0, h));
            const std::vector<double> v1 = predicted.soft_direction(options.mode, &v0);
            std::vector<double> mean(n);
            for (int64_t k = 0; k < n; ++k) mean[k] = 0.5 * (v0[k] + v1[k]);
            const std::vector<double> direction = point.rigid_free(mean);
            TracePoint corrected(traced, point.moved(direction, h));
            // The Euler–Heun difference estimates the Euler step's local error; measured in
            // feature space and relative to the response of the stiffest mode to a step of the
            // same length, it is dimensionless and independent of the features' scale.
            const double step_length = h / largest_atomic_move(v0);
            const double error = distance(predicted.jacobian.features, corrected.jacobian.features) / (stiffest * step_length);
            if (error > options.tolerance && h > options.min_step) {
                h = std::max(0.5 * h, options.min_step);
                continue;
            }
            const double taken = h;
            if (error < 0.25 * options.tolerance) h = std::min(1.5 * h, options.max_step);
            previous = direction;
            point = std::move(corrected);
            const double D = recorder.record(point, taken);
            farthest = std::max(farthest, D);
            break;
        }
        if (options.stop_at_loop && farthest >= 3.0 * options.loop_tolerance &&
            trace.displacement.back() <= options.loop_tolerance) {
            trace.closed = true;
            break;
        }
    }
    return trace;
}

EnvironmentGeometry environment_geometry(int64_t n_atoms, const double* positions) {
    if (n_atoms < 2) fail(Status::invalid_argument, "an environment's geometry needs a centre and at least one neighbour");
    EnvironmentGeometry g;
    std::vector<double> bonds(3 * (n_atoms - 1));
    for (int64_t j = 1; j < n_atoms; ++j) {
        for (int k = 0; k < 3; ++k) bonds[3 * (j - 1) + k] = positions[3 * j + k] - positions[k];
        const double r = std::hypot(bonds[3 * (j - 1)], bonds[3 * (j - 1) + 1], bonds[3 * (j - 1) + 2]);
        g.distances.push_back(r);
        g.mean_distance += r;
        g.mean_squared_distance += r * r;
    }
    for (int64_t j = 0; j + 1 < n_atoms - 1; ++j)
        for (int64_t k = j + 1; k < n_atoms - 1; ++k) {
            const double* a = &bonds[3 * j];
            const double* b = &bonds[3 * k];
            const double c = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / (g.distances[j] * g.distances[k]);
            g.cosines.push_back(c);
            g.mean_cosine += c;
            g.mean_squared_cosine += c * c;
        }
    g.mean_distance /= static_cast<double>(g.distances.size());
    g.mean_squared_distance /= static_cast<double>(g.distances.size());
    if (!g.cosines.empty()) {
        g.mean_cosine /= static_cast<double>(g.cosines.size());
        g.mean_squared_cosine /= static_cast<double>(g.cosines.size());
    }
    return g;
}

}  // namespace atomfp
