// atomfp learn: active learning. Each iteration fits a model on the labelled structures, explores
// with Langevin MD driven by it, selects the configurations it is least sure of (diverse among
// themselves), has the user's reference program label them, and adds them to the data. Every step
// leaves its result on disk before the next starts, so a killed run resumes where it stopped
// without relabelling anything (`--resume`).
#include "analysis/feature_space.hpp"
#include "analysis/sensitivity.hpp"
#include "cli/options.hpp"
#include "cli/process.hpp"
#include "cli/progress.hpp"
#include "cli/svg_plot.hpp"
#include "core/error.hpp"
#include "core/selection.hpp"
#include "core/json_spec.hpp"
#include "io/atomic_output.hpp"
#include "io/extxyz.hpp"
#include "models/dynamics.hpp"
#include "models/evaluation.hpp"
#include "models/model_file.hpp"
#include "models/trainer.hpp"


#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>

namespace atomfp::cli {

namespace {

struct LearnOptions {
    std::string config, workdir, resume;
    std::vector<std::string> compare;
};

struct Protocol {
    std::string name;
    std::vector<Frame> starts;
    LangevinSettings md;
    int64_t sample_every = 20;
    double strain = 0.0;  // isotropic: the cell and positions scaled by (1 + strain)
    // Each trajectory starts where the same trajectory of the previous iteration ended (when it ran
    // to its end), so that exploration wanders further than one trajectory's length from the start.
    bool continue_trajectories = false;
};

struct LearnSettings {
    json fit;                  // an `atomfp fit` configuration
    TrainingSettings training;
    std::string initial, validation;
    std::string labeller;      // a command line with {input} and {output}
    double labeller_timeout = 3600;
    LabelKeys labels;
    std::vector<Protocol> protocols;
    std::string mode = "active";  // or "random"
    int64_t budget = 8;
    double variance_threshold = 0;  // eV²; 0: use variance_ratio
    double variance_ratio = 3;      // x the median per-centre variance of the training environments
    double blind_spot_threshold = 0;  // 0: off
    uint64_t seed = 1;
    int64_t max_labels = 100, max_iterations = 20;
    int64_t max_labeller_failures = 3;  // consecutive iterations whose labelling failed entirely
};

namespace fs = std::filesystem;

// `path` resolved against `base` (the configuration's directory); "" stays "" (not given).
std::string absolute(const std::string& path, const std::string& base) {
    return path.empty() ? path : (fs::path(base) / path).lexically_normal().string();
}

// The learn configuration: {"fit": {...}, "initial": FILE, "validation": FILE, "labeller": {...},
// "exploration": {"protocols": [...]}, "selection": {...}, "stopping": {...}}; file names relative to
// the configuration's directory. Unknown keys are errors.
LearnSettings parse_settings(const json& config, const std::string& base) {
    LearnSettings s;
    if (!config.is_object()) fail(Status::json_error, "the learn configuration must be a JSON object");
    SpecReader top(config, "");
    s.fit = top.value("fit");
    s.training = TrainingSettings::parse(s.fit);
    s.labels = s.training.labels;
    s.initial = absolute(top.string("initial", std::nullopt, {}), base);
    s.validation = absolute(top.string("validation", "", {}), base);
    {
        SpecReader labeller = top.object("labeller");
        s.labeller = labeller.string("command", std::nullopt, {});
        if (s.labeller.find("{input}") == std::string::npos || s.labeller.find("{output}") == std::string::npos) {
            fail(Status::json_error, "labeller: 'command' must contain {input} and {output}");
        }
        s.labeller_timeout = labeller.number("timeout", s.labeller_timeout, 0.0, 1e7, true);
        s.max_labeller_failures = labeller.integer("max_failures", s.max_labeller_failures, 1, 1000);
        labeller.finish();
    }
    {
        SpecReader exploration = top.object("exploration");
        const json& protocols = exploration.array("protocols");
        if (protocols.empty()) fail(Status::json_error, "exploration: 'protocols' is empty");
        for (std::size_t i = 0; i < protocols.size(); ++i) {
            SpecReader r = exploration.element("protocols", i, protocols[i]);
            Protocol p;
            p.name = r.string("name", std::nullopt, {});
            p.starts = read_extxyz(absolute(r.string("structures", std::nullopt, {}), base));
            if (p.starts.empty()) fail(Status::json_error, "protocol ", p.name, ": no start structures");
            const json& temperature = r.value("temperature");
            const bool pair = temperature.is_array() && temperature.size() == 2 && temperature[0].is_number() && temperature[1].is_number();
            if (!temperature.is_number() && !pair) fail(Status::json_error, "protocol ", p.name, ": 'temperature' is T or [T_start, T_end] (K)");
            p.md.temperature_start = pair ? temperature[0].get<double>() : temperature.get<double>();
            p.md.temperature_end = pair ? temperature[1].get<double>() : temperature.get<double>();
            p.md.steps = r.integer("steps", 1000, 1, int64_t{1} << 40);
            p.md.timestep = r.number("timestep", 1.0, 0.0, 100.0, true);
            p.md.friction = r.number("friction", 0.01, 0.0, 10.0);
            p.md.min_distance = r.number("min_distance", 0.5, 0.0, 10.0);
            p.sample_every = r.integer("sample_every", 20, 1, int64_t{1} << 40);
            p.strain = r.number("strain", 0.0, -0.5, 1.0, true);
            p.continue_trajectories = r.boolean("continue", false);
            r.finish();
            s.protocols.push_back(std::move(p));
        }
        exploration.finish();
    }
    if (top.has("selection")) {
        SpecReader r = top.object("selection");
        s.mode = r.string("mode", s.mode, {"active", "random"});
        s.budget = r.integer("budget", s.budget, 1, int64_t{1} << 30);
        s.variance_threshold = r.number("variance_threshold", 0.0, 0.0);
        s.variance_ratio = r.number("variance_ratio", s.variance_ratio, 0.0, 1e12, true);
        s.blind_spot_threshold = r.number("blind_spot_threshold", 0.0, 0.0, 1.0);
        s.seed = static_cast<uint64_t>(r.integer("seed", 1, 0, int64_t{1} << 62));
        r.finish();
    }
    if (top.has("stopping")) {
        SpecReader r = top.object("stopping");
        s.max_labels = r.integer("max_labels", s.max_labels, 1, int64_t{1} << 40);
        s.max_iterations = r.integer("max_iterations", s.max_iterations, 1, int64_t{1} << 30);
        r.finish();
    }
    top.finish();
    if (s.mode == "active" && s.training.method != TrainingMethod::sparse_gpr) {
        fail(Status::json_error, "active selection needs the variance of a sparse GPR ('method': 'sparse_gpr' in 'fit')");
    }
    if (s.mode == "active" && !s.training.predictive_variance) {
        fail(Status::json_error, "active selection needs the model's variance: remove '\"predictive_variance\": false' from 'fit'");
    }
    return s;
}

// ---- files ---------------------------------------------------------------------------------------

bool exists(const std::string& path) { return fs::exists(path); }

void make_directory(const std::string& path) {
    std::error_code error;
    fs::create_directory(path, error);
    if (error) fail(Status::io, "cannot create directory ", path, ": ", error.message());
}

void write_frames(const std::string& path, const std::vector<Frame>& frames, const LabelKeys& labels) {
    AtomicOutput out(path, false);
    for (const Frame& f : frames) write_extxyz(out.stream(), f, labels);
    out.commit();
}

void write_json(const std::string& path, const json& value) {
    AtomicOutput out(path, false);
    out.stream() << value.dump(1) << "\n";
    out.commit();
}

std::string iteration_directory(const std::string& workdir, int64_t k) { return workdir + "/iteration_" + std::to_string(k); }

// ---- the labeller ---------------------------------------------------------------------------------

std::string shell_quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Runs the labeller's command line through /bin/sh in `directory`, output to `log`; "" on success,
// otherwise what went wrong.
std::string run_labeller(const std::string& command_template, const std::string& input, const std::string& output,
                         const std::string& directory, const std::string& log, double timeout) {
    std::string command = command_template;
    for (const auto& [key, value] : {std::pair<std::string, std::string>{"{input}", input}, {"{output}", output}}) {
        for (size_t at = command.find(key); at != std::string::npos; at = command.find(key, at)) {
            command.replace(at, key.size(), shell_quoted(value));
            at += shell_quoted(value).size();
        }
    }
    const ProcessOutcome run = run_process({"/bin/sh", "-c", command}, {directory, log, false, timeout});
    if (!run.started) return "cannot start the labeller (fork failed)";
    if (run.timed_out) return "the labeller took longer than its timeout of " + std::to_string(timeout) + " s and was stopped";
    if (run.signal != 0) return "the labeller was killed by signal " + std::to_string(run.signal);
    if (run.exit_status != 0) return "the labeller exited with status " + std::to_string(run.exit_status);
    return "";
}

// The structures of a labeller's output one by one: a structure the reader refuses (a NaN force, a
// malformed line) is that structure's problem, not the whole batch's. Throws Error(format) when the
// file cannot even be split into structures (a count line that is not a count).
struct LabelledOutput {
    std::vector<Frame> frames;
    std::vector<std::string> problems;  // per structure, "" when it was read
};

LabelledOutput read_labelled(const std::string& path, const LabelKeys& labels) {
    std::ifstream in(path);
    if (!in) fail(Status::io, "cannot open ", path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    LabelledOutput out;
    std::size_t at = 0;
    while (at < lines.size()) {
        if (lines[at].find_first_not_of(" \t\r") == std::string::npos) {
            ++at;
            continue;
        }
        char* end = nullptr;
        const long long n = std::strtoll(lines[at].c_str(), &end, 10);
        if (n <= 0 || (end && *end && std::string(end).find_first_not_of(" \t\r") != std::string::npos) ||
            at + 2 + static_cast<std::size_t>(n) > lines.size()) {
            fail(Status::format, path, ":", at + 1, ": not the atom count of a structure with its lines");
        }
        std::string chunk;
        for (std::size_t k = at; k < at + 2 + static_cast<std::size_t>(n); ++k) chunk += lines[k] + "\n";
        std::istringstream stream(chunk);
        try {
            out.frames.push_back(parse_extxyz(stream, path + " structure " + std::to_string(out.frames.size()), labels).at(0));
            out.problems.emplace_back();
        } catch (const Error& e) {
            out.frames.emplace_back();
            out.problems.emplace_back(e.what());
        }
        at += 2 + static_cast<std::size_t>(n);
    }
    return out;
}

// Why a labelled structure cannot be used, or "" when it can: the candidate's atoms, an energy and
// forces, every value finite.
std::string label_problem(const Frame& candidate, const Frame& labelled) {
    if (labelled.species != candidate.species) return "the labelled structure's atoms differ from the candidate's";
    if (!labelled.energy || !std::isfinite(*labelled.energy)) return "no finite energy";
    if (labelled.forces.size() != candidate.positions.size()) return "no forces";
    for (double f : labelled.forces)
        if (!std::isfinite(f)) return "a force is not finite";
    if (labelled.stress)
        for (double x : *labelled.stress)
            if (!std::isfinite(x)) return "a stress component is not finite";
    return "";
}

// ---- exploration ------------------------------------------------------------------------------------

struct Candidate {
    Frame frame;
    double max_variance = 0;     // eV², over the frame's centres
    int64_t uncertain_centre = 0;
    double blind_spot = NAN;     // the smallest index over the centres, when asked for
};

Frame strained(const Frame& start, double strain) {
    Frame f = start;
    if (strain == 0.0) return f;
    for (double& x : f.positions) x *= 1.0 + strain;
    if (f.cell)
        for (double& x : *f.cell) x *= 1.0 + strain;
    return f;
}

// What exploration and selection write into a candidate's info: a labelled frame takes these over
// from its candidate, and a trajectory continued from a candidate starts without them.
constexpr const char* candidate_keys[] = {"config_type", "learn_protocol",     "learn_start",
                                          "learn_step",  "learn_max_variance", "learn_blind_spot"};

// A frame of exploration as a candidate. Its config_type is the protocol's name, so that a fit's
// config_type_sigma can weigh the labels of each protocol (hot liquids deserve looser sigmas).
Candidate candidate_of(const Frame& frame, const std::string& protocol, size_t start, int64_t step) {
    Candidate c{frame};
    c.frame.info["config_type"] = protocol;
    c.frame.info["learn_protocol"] = protocol;
    c.frame.info["learn_start"] = std::to_string(start);
    c.frame.info["learn_step"] = std::to_string(step);
    return c;
}

// Where trajectory `start` of `protocol` begins in iteration k: the last frame of the same trajectory
// in iteration k - 1 when the protocol continues and that trajectory ran to its end (its candidates
// are on disk, so a resumed run continues from the same frames), else the (strained) start structure.
Frame trajectory_start(const Protocol& protocol, size_t start, const std::vector<Frame>& previous_candidates, bool& continued) {
    continued = false;
    if (protocol.continue_trajectories) {
        for (const Frame& f : previous_candidates) {
            const auto value = [&f](const char* key) { return f.info.count(key) ? f.info.at(key) : std::string(); };
            if (value("learn_protocol") == protocol.name && value("learn_start") == std::to_string(start) &&
                value("learn_step") == std::to_string(protocol.md.steps)) {
                Frame continued_frame = f;
                for (const char* key : candidate_keys)
                    continued_frame.info.erase(key);
                continued = true;
                return continued_frame;
            }
        }
    }
    return strained(protocol.starts[start], protocol.strain);
}

// Per-centre variances of a frame and its uncertainty summary.
void assess(const Model& model, Candidate& c, double blind_spot_threshold) {
    const NeighbourList list = neighbours_of(c.frame, model.cutoff());
    std::vector<double> variances(c.frame.size());
    model.predict_variance(list.view(), variances.data(), nullptr);
    const auto largest = std::max_element(variances.begin(), variances.end());
    c.max_variance = *largest;
    c.uncertain_centre = largest - variances.begin();
    if (blind_spot_threshold > 0) {
        c.blind_spot = INFINITY;
        for (int64_t i = 0; i < c.frame.size(); ++i) {
            c.blind_spot = std::min(c.blind_spot, blind_spot(model.descriptor(), list.view(), i, 1e-6).index);
        }
    }
}

// ---- the loop ---------------------------------------------------------------------------------------

struct Learner {
    LearnSettings s;
    std::string workdir;
    json state;  // {"iteration": k, "stage": ..., "history": [...], "labeller_failures": n}
    ProgressBar bar{"steps"};

    std::string dataset_path() const { return workdir + "/dataset.extxyz"; }
    std::string rejected_path() const { return workdir + "/rejected.extxyz"; }

    void save_state() { write_json(workdir + "/state.json", state); }

    std::vector<Frame> dataset() const { return exists(dataset_path()) ? read_extxyz(dataset_path(), s.labels) : std::vector<Frame>{}; }

    void start(const std::string& config_text) {
        make_directory(workdir);
        if (exists(workdir + "/state.json")) {
            fail(Status::invalid_argument, workdir, " holds a learning run already: continue it with --resume ", workdir);
        }
        std::vector<Frame> initial = read_extxyz(s.initial, s.labels);
        if (initial.empty()) fail(Status::invalid_argument, s.initial, " holds no structures");
        for (Frame& f : initial) {
            if (!f.energy) fail(Status::invalid_argument, s.initial, ": every initial structure needs an energy");
            f.info["learn_iteration"] = "initial";
        }
        write_frames(dataset_path(), initial, s.labels);
        {
            AtomicOutput out(workdir + "/learn.json", false);
            out.stream() << config_text;
            out.commit();
        }
        state = {{"iteration", 0}, {"stage", "start"}, {"history", json::array()}, {"labeller_failures", 0}};
        save_state();
    }

    Model fit(const std::vector<Frame>& data, const std::string& path) {
        TrainingSettings training = s.training;
        training.progress = [&](const std::string& stage, int64_t done, int64_t total) { bar.show("fit: " + stage, done, total, "structures"); };
        TrainingSummary summary;
        Model model = train(data, training, &summary);
        save_model(model, path);
        return model;
    }

    // The median per-centre variance over the training environments: the scale of "uncertain".
    double training_variance(const Model& model, const std::vector<Frame>& data) {
        std::vector<double> all;
        for (const Frame& f : data) {
            const NeighbourList list = neighbours_of(f, model.cutoff());
            std::vector<double> v(f.size());
            model.predict_variance(list.view(), v.data(), nullptr);
            all.insert(all.end(), v.begin(), v.end());
        }
        std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(all.size() / 2), all.end());
        return all[all.size() / 2];
    }

    std::vector<Candidate> explore(const Model& model, int64_t k, json& record) {
        std::vector<Candidate> candidates;
        std::vector<Frame> previous;
        const bool continuing = std::any_of(s.protocols.begin(), s.protocols.end(), [](const Protocol& p) { return p.continue_trajectories; });
        if (continuing && k > 0 && exists(iteration_directory(workdir, k - 1) + "/candidates.extxyz")) {
            previous = read_extxyz(iteration_directory(workdir, k - 1) + "/candidates.extxyz", s.labels);
        }
        json protocols = json::object();
        for (size_t p = 0; p < s.protocols.size(); ++p) {
            const Protocol& protocol = s.protocols[p];
            json report = {{"trajectories", 0}, {"exploded", 0}, {"candidates", 0}};
            std::vector<double> found;
            for (size_t start = 0; start < protocol.starts.size(); ++start) {
                LangevinSettings md = protocol.md;
                md.seed = s.seed * 1000003 + static_cast<uint64_t>(k) * 7919 + p * 101 + start;
                Frame last_sane;
                int64_t last_sampled = -1;
                bool continued = false;
                const Frame first = trajectory_start(protocol, start, previous, continued);
                if (continued) report["continued"] = report.value("continued", 0) + 1;
                const LangevinReport run = run_langevin(model, first, md,
                                                        [&](int64_t step, const Frame& frame, double, double) {
                    last_sane = frame;
                    // A continued trajectory needs its last frame among the candidates.
                    if (step % protocol.sample_every == 0 || (protocol.continue_trajectories && step == md.steps)) {
                        candidates.push_back(candidate_of(frame, protocol.name, start, step));
                        last_sampled = step;
                    }
                    bar.show("explore " + protocol.name, step, md.steps);
                    return true;
                });
                report["trajectories"] = report["trajectories"].get<int64_t>() + 1;
                if (run.exploded) {
                    report["exploded"] = report["exploded"].get<int64_t>() + 1;
                    report["last_reason"] = run.reason;
                    std::printf("  %s: trajectory %zu stopped after %lld steps: %s\n", protocol.name.c_str(), start,
                                static_cast<long long>(run.steps), run.reason.c_str());
                    // the last sane frame before the collapse is a candidate too
                    if (run.steps > 0 && last_sampled != run.steps) candidates.push_back(candidate_of(last_sane, protocol.name, start, run.steps));
                }
            }
            for (Candidate& c : candidates) {
                if (c.frame.info["learn_protocol"] != protocol.name || c.frame.info.count("learn_max_variance")) continue;
                assess(model, c, s.blind_spot_threshold);
                c.frame.info["learn_max_variance"] = std::to_string(c.max_variance);
                if (s.blind_spot_threshold > 0) c.frame.info["learn_blind_spot"] = std::to_string(c.blind_spot);
                found.push_back(c.max_variance);
                report["candidates"] = report["candidates"].get<int64_t>() + 1;
            }
            if (!found.empty()) {
                std::sort(found.begin(), found.end());
                report["max_variance"] = found.back();
                report["median_variance"] = found[found.size() / 2];
            }
            protocols[protocol.name] = report;
        }
        record["exploration"] = protocols;
        return candidates;
    }

    std::vector<Frame> select(const Model& model, const std::vector<Candidate>& candidates, double threshold, int64_t count,
                              int64_t k, json& record) {
        std::vector<size_t> pool;
        for (size_t i = 0; i < candidates.size(); ++i) {
            const Candidate& c = candidates[i];
            const bool uncertain = c.max_variance > threshold;
            const bool blind = s.blind_spot_threshold > 0 && c.blind_spot < s.blind_spot_threshold;
            if (s.mode == "random" || uncertain || blind) pool.push_back(i);
        }
        record["pool"] = pool.size();
        std::vector<size_t> chosen;
        if (s.mode == "random") {
            std::mt19937_64 generator(s.seed * 7 + static_cast<uint64_t>(k));
            std::shuffle(pool.begin(), pool.end(), generator);
            chosen.assign(pool.begin(), pool.begin() + std::min<int64_t>(count, static_cast<int64_t>(pool.size())));
        } else if (static_cast<int64_t>(pool.size()) <= count) {
            chosen = pool;
        } else {
            // Diverse among the uncertain: farthest-point sampling over the features of each
            // candidate's most uncertain environment, starting from the most uncertain candidate.
            std::sort(pool.begin(), pool.end(), [&](size_t a, size_t b) { return candidates[a].max_variance > candidates[b].max_variance; });
            const int64_t nf = model.descriptor().feature_count();
            FeatureMatrix x(static_cast<int64_t>(pool.size()), nf);
            for (size_t r = 0; r < pool.size(); ++r) {
                const Candidate& c = candidates[pool[r]];
                const NeighbourList list = neighbours_of(c.frame, model.cutoff());
                std::vector<double> features(c.frame.size() * nf);
                compute(model.descriptor(), list.view(), features.data(), nullptr);
                std::copy_n(features.begin() + c.uncertain_centre * nf, nf, x.values.begin() + static_cast<int64_t>(r) * nf);
            }
            for (int64_t r : farthest_point_sampling(x.rows, nf, x.values.data(), count, 0)) chosen.push_back(pool[r]);
        }
        std::vector<Frame> out;
        for (size_t i : chosen) out.push_back(candidates[i].frame);
        return out;
    }

    // Whether `path` reads as an extended XYZ file of `count` structures: a labeller's output that
    // was written whole.
    bool complete_output(const std::string& path, std::size_t count) const {
        try {
            return read_labelled(path, s.labels).frames.size() == count;
        } catch (const Error&) {
            return false;
        }
    }

    // Labels `selected` (or takes the labeller's output already on disk); returns the accepted
    // structures and appends the rest, with the reason, to the rejected file.
    std::vector<Frame> label(const std::vector<Frame>& selected, const std::string& dir, int64_t k, json& record) {
        const std::string input = dir + "/selected.extxyz", output = dir + "/labelled.extxyz";
        std::string problem;
        if (exists(output) && (state.value("labelled_output", false) || complete_output(output, selected.size()))) {
            // A run killed after the labeller wrote its output (before or after it was recorded):
            // the labels are on disk, and labelling them again could cost hours.
            std::printf("  using the labeller's output already in %s\n", output.c_str());
        } else {
            std::printf("  labelling %zu structures: %s\n", selected.size(), s.labeller.c_str());
            std::remove(output.c_str());
            problem = run_labeller(s.labeller, input, output, dir, dir + "/labeller.log", s.labeller_timeout);
            if (problem.empty() && !exists(output)) problem = "the labeller wrote no " + output;
            if (problem.empty()) {
                state["labelled_output"] = true;
                save_state();
            }
        }
        LabelledOutput labelled;
        if (problem.empty()) {
            try {
                labelled = read_labelled(output, s.labels);
            } catch (const Error& e) {
                problem = std::string("the labeller's output cannot be read: ") + e.what();
            }
        }
        if (problem.empty() && labelled.frames.size() != selected.size()) {
            problem = "the labeller returned " + std::to_string(labelled.frames.size()) + " structures for " +
                      std::to_string(selected.size());
        }
        std::vector<Frame> accepted, rejected;
        for (size_t i = 0; i < selected.size(); ++i) {
            std::string why = problem;
            if (why.empty()) why = labelled.problems[i];
            if (why.empty()) why = label_problem(selected[i], labelled.frames[i]);
            if (why.empty()) {
                Frame f = labelled.frames[i];
                for (const char* key : candidate_keys)
                    if (selected[i].info.count(key)) f.info[key] = selected[i].info.at(key);
                accepted.push_back(std::move(f));
            } else {
                Frame f = selected[i];
                std::string text = why;  // the writer quotes the value: no quotes or line breaks inside
                std::replace(text.begin(), text.end(), '"', '\'');
                std::replace(text.begin(), text.end(), '\n', ' ');
                f.info["learn_rejected"] = text;
                f.info["learn_iteration"] = std::to_string(k);
                rejected.push_back(std::move(f));
                std::printf("  rejected structure %zu: %s\n", i, why.c_str());
            }
        }
        record["labelled"] = accepted.size();
        record["rejected"] = rejected.size();
        if (!problem.empty()) record["labeller_problem"] = problem;
        if (!rejected.empty()) {
            // idempotent as the data set: a resumed iteration does not set its rejects aside twice
            std::vector<Frame> all = exists(rejected_path()) ? read_extxyz(rejected_path(), s.labels) : std::vector<Frame>{};
            const bool present = std::any_of(all.begin(), all.end(), [&](const Frame& f) {
                auto it = f.info.find("learn_iteration");
                return it != f.info.end() && it->second == std::to_string(k);
            });
            if (!present) {
                all.insert(all.end(), rejected.begin(), rejected.end());
                write_frames(rejected_path(), all, s.labels);
            }
        }
        return accepted;
    }

    void run() {
        const std::vector<Frame> validation = s.validation.empty() ? std::vector<Frame>{} : read_extxyz(s.validation, s.labels);
        for (;;) {
            const int64_t k = state["iteration"].get<int64_t>();
            const std::string dir = iteration_directory(workdir, k);
            make_directory(dir);
            std::vector<Frame> data = dataset();
            json record = {{"iteration", k}, {"labels", data.size()}};
            const auto started = std::chrono::steady_clock::now();
            // fit (deterministic: refitting after a resume gives the same model)
            const Model model = fit(data, dir + "/model.afp");
            if (!validation.empty()) {
                const std::vector<FramePrediction> predicted = predict_frames(model, validation, true, false);
                const ErrorMetrics e = compare(validation, predicted);
                record["validation"] = {{"energy_rmse_per_atom", e.energy_rmse_per_atom}, {"force_rmse", e.force_rmse}};
                // Per config_type: which regime the labels have not reached yet.
                const auto groups = compare_by_config_type(validation, predicted);
                if (groups.size() > 1) {
                    for (const auto& [type, g] : groups) {
                        record["validation_by_config_type"][type] = {{"energy_rmse_per_atom", g.energy_rmse_per_atom}, {"force_rmse", g.force_rmse}};
                    }
                }
            }
            const bool out_of_labels = static_cast<int64_t>(data.size()) >= s.max_labels + initial_count(data);
            if (out_of_labels || k >= s.max_iterations) {
                record["stop"] = out_of_labels ? "label budget reached" : "iteration limit reached";
                finish(record, model, started);
                return;
            }
            // explore and select (kept on disk: a resume labels exactly these)
            std::vector<Frame> selected;
            const std::string selected_path = dir + "/selected.extxyz";
            if (state["stage"] == "selected" || state["stage"] == "labelled") {
                selected = read_extxyz(selected_path, s.labels);
                record = state["pending_record"];
            } else {
                const double training = s.mode == "active" ? training_variance(model, data) : 0.0;
                const double threshold = s.variance_threshold > 0 ? s.variance_threshold : s.variance_ratio * training;
                record["training_median_variance"] = training;
                record["threshold"] = threshold;
                const std::vector<Candidate> candidates = explore(model, k, record);
                std::vector<Frame> all;
                for (const Candidate& c : candidates) all.push_back(c.frame);
                write_frames(dir + "/candidates.extxyz", all, s.labels);
                const int64_t remaining = s.max_labels + initial_count(data) - static_cast<int64_t>(data.size());
                selected = select(model, candidates, threshold, std::min(s.budget, remaining), k, record);
                if (selected.empty()) {
                    record["stop"] = "exploration found nothing above the thresholds in any protocol";
                    finish(record, model, started);
                    return;
                }
                write_frames(selected_path, selected, s.labels);
                state["stage"] = "selected";
                state["pending_record"] = record;
                state["labelled_output"] = false;
                save_state();
            }
            std::vector<Frame> accepted = label(selected, dir, k, record);
            // append (idempotent: structures of this iteration already in the data are not added twice)
            const std::string tag = std::to_string(k);
            data = dataset();
            const bool present = std::any_of(data.begin(), data.end(), [&](const Frame& f) {
                auto it = f.info.find("learn_iteration");
                return it != f.info.end() && it->second == tag;
            });
            if (!present && !accepted.empty()) {
                for (Frame& f : accepted) f.info["learn_iteration"] = tag;
                data.insert(data.end(), accepted.begin(), accepted.end());
                write_frames(dataset_path(), data, s.labels);
            }
            state["labeller_failures"] = accepted.empty() ? state["labeller_failures"].get<int64_t>() + 1 : 0;
            record["time"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            state["history"].push_back(record);
            state["iteration"] = k + 1;
            state["stage"] = "start";
            state.erase("pending_record");
            state["labelled_output"] = false;
            save_state();
            print_progress(record);
            write_curve();
            if (state["labeller_failures"].get<int64_t>() >= s.max_labeller_failures) {
                fail(Status::invalid_argument, "the labeller failed in ", s.max_labeller_failures,
                     " consecutive iterations (last: ", record.value("labeller_problem", std::string("every structure rejected")),
                     "); its candidates are in ", rejected_path(), ", its output in ", dir, "/labeller.log");
            }
        }
    }

    static int64_t initial_count(const std::vector<Frame>& data) {
        return std::count_if(data.begin(), data.end(), [](const Frame& f) {
            auto it = f.info.find("learn_iteration");
            return it != f.info.end() && it->second == "initial";
        });
    }

    void finish(json& record, const Model& model, std::chrono::steady_clock::time_point started) {
        record["time"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        state["history"].push_back(record);
        state["stage"] = "done";
        save_state();
        save_model(model, workdir + "/model.afp");
        print_progress(record);
        write_curve();
        std::printf("  stopped: %s; the model is %s/model.afp\n", record["stop"].get<std::string>().c_str(), workdir.c_str());
    }

    static void print_progress(const json& r) {
        std::printf("  iteration %lld: %lld labelled structures", static_cast<long long>(r["iteration"].get<int64_t>()),
                    static_cast<long long>(r["labels"].get<int64_t>()));
        if (r.contains("validation")) {
            std::printf(", validation energy %.2f meV/atom, forces %.4f eV/A", 1e3 * r["validation"]["energy_rmse_per_atom"].get<double>(),
                        r["validation"]["force_rmse"].get<double>());
        }
        if (r.contains("exploration")) {
            double largest = 0;
            for (const auto& [name, p] : r["exploration"].items()) largest = std::max(largest, p.value("max_variance", 0.0));
            std::printf(", largest variance found %.3g eV^2 (threshold %.3g)", largest, r.value("threshold", 0.0));
        }
        if (r.contains("labelled")) std::printf(", +%lld labels", static_cast<long long>(r["labelled"].get<int64_t>()));
        if (r.contains("rejected") && r["rejected"].get<int64_t>() > 0) std::printf(" (%lld rejected)", static_cast<long long>(r["rejected"].get<int64_t>()));
        std::printf("\n");
        std::fflush(stdout);
    }

    std::vector<std::string> compare_with;

    // Validation force RMSE against labelled structures, for this run and any compared runs.
    void write_curve() const {
        Figure figure;
        figure.columns = 2;
        Panel forces("Validation force RMSE", "labelled structures", "eV/Å", false, true);
        Panel energies("Validation energy RMSE", "labelled structures", "meV/atom", false, true);
        auto add = [&](const json& history, const std::string& label) {
            Series f{label, {}, {}, Series::Style::line_and_markers, Series::Marker::circle, ""};
            Series e = f;
            for (const json& r : history) {
                if (!r.contains("validation")) continue;
                f.x.push_back(static_cast<double>(r["labels"].get<int64_t>()));
                f.y.push_back(r["validation"]["force_rmse"].get<double>());
                e.x.push_back(f.x.back());
                e.y.push_back(1e3 * r["validation"]["energy_rmse_per_atom"].get<double>());
            }
            if (f.x.empty()) return;
            forces.series.push_back(f);
            energies.series.push_back(e);
        };
        // Each curve is named by its selection mode, and by its working directory too where two
        // runs share a mode.
        std::vector<std::string> modes;
        add(state["history"], s.mode);
        modes.push_back(s.mode);
        for (const std::string& other : compare_with) {
            std::ifstream in(other + "/state.json");
            if (!in) continue;
            const json o = json::parse(in, nullptr, false);
            if (o.is_discarded() || !o.contains("history")) continue;
            std::ifstream config_in(other + "/learn.json");
            std::string mode = "active";  // a run whose configuration no longer reads is drawn as the default
            try {
                mode = parse_settings(json::parse(config_in), other).mode;
            } catch (const std::exception&) {
            }
            const bool repeated = std::find(modes.begin(), modes.end(), mode) != modes.end();
            modes.push_back(mode);
            add(o["history"], repeated ? mode + " (" + file_stem(other) + ")" : mode);
        }
        if (forces.series.empty()) return;
        figure.panels = {forces, energies};
        write_svg(workdir + "/learning_curve.svg", figure);
    }
};

void run_learn(const LearnOptions& options) {
    if (options.config.empty() == options.resume.empty()) fail(Status::invalid_argument, "give --config (with -o WORKDIR) or --resume WORKDIR");
    Learner learner;
    learner.compare_with = options.compare;
    if (!options.resume.empty()) {
        learner.workdir = fs::absolute(options.resume).lexically_normal().string();
        const std::string text = read_text_file(options.resume + "/learn.json");
        learner.s = parse_settings(parse_json(text), options.resume);
        std::ifstream in(options.resume + "/state.json");
        learner.state = json::parse(in, nullptr, false);
        if (learner.state.is_discarded() || !learner.state.contains("iteration")) fail(Status::io, options.resume, "/state.json is not a learning state");
        if (learner.state["stage"] == "done") {
            std::printf("atomfp learn: %s is finished (%s)\n", options.resume.c_str(),
                        learner.state["history"].back().value("stop", std::string("")).c_str());
            // A finished run can still be drawn against others run since.
            if (!options.compare.empty()) learner.write_curve();
            return;
        }
        std::printf("atomfp learn: resuming %s at iteration %lld\n", options.resume.c_str(),
                    static_cast<long long>(learner.state["iteration"].get<int64_t>()));
    } else {
        if (options.workdir.empty()) fail(Status::invalid_argument, "--config needs -o WORKDIR");
        learner.workdir = fs::absolute(options.workdir).lexically_normal().string();
        const std::string text = read_text_file(options.config);
        // File names resolve against the configuration's directory; the copy in WORKDIR has them absolute.
        json config = parse_json(text);
        std::error_code error;
        const std::string base = fs::canonical(fs::absolute(options.config).parent_path(), error).string();
        if (error) fail(Status::io, "cannot resolve the directory of ", options.config, ": ", error.message());
        // {config_dir} in the labeller's command: where the configuration (and often the labeller) lives.
        if (config.contains("labeller") && config["labeller"].is_object() && config["labeller"].contains("command") &&
            config["labeller"]["command"].is_string()) {
            std::string command = config["labeller"]["command"].get<std::string>();
            for (size_t at = command.find("{config_dir}"); at != std::string::npos; at = command.find("{config_dir}", at)) {
                command.replace(at, 12, shell_quoted(base));
            }
            config["labeller"]["command"] = command;
        }
        learner.s = parse_settings(config, base);
        config["initial"] = learner.s.initial;
        if (!learner.s.validation.empty()) config["validation"] = learner.s.validation;
        for (json& p : config["exploration"]["protocols"]) p["structures"] = absolute(p["structures"].get<std::string>(), base);
        learner.start(config.dump(1));
        std::printf("atomfp learn: %s -> %s (%s selection, budget %lld per iteration, at most %lld labels)\n",
                    options.config.c_str(), options.workdir.c_str(), learner.s.mode.c_str(),
                    static_cast<long long>(learner.s.budget), static_cast<long long>(learner.s.max_labels));
    }
    learner.run();
}

}  // namespace

Command add_learn(CLI::App& tool) {
    auto options = std::make_shared<LearnOptions>();
    CLI::App* app = add_command(
        tool, "learn", "active learning: explore with the model, label what it is unsure of, refit",
        "atomfp learn --config LEARN.json -o WORKDIR\n       atomfp learn --resume WORKDIR",
        "Grows a training set by itself. Each iteration fits a sparse GPR on the labelled structures\n"
        "(WORKDIR/dataset.extxyz), runs Langevin MD with it from the exploration protocols' start\n"
        "structures, takes candidates every few steps, selects those whose largest per-atom variance\n"
        "exceeds the threshold (diverse among themselves by farthest-point sampling; or at random for\n"
        "comparison), runs the labeller command on them and appends what it labels. It stops at the\n"
        "label budget, the iteration limit, or when no protocol finds anything above the threshold.\n"
        "Every result is on disk before the next step: --resume continues a killed run without\n"
        "relabelling. docs/cli.md and examples/active_learning describe LEARN.json.");
    CLI::Option* config = app->add_option("--config", options->config, "the learning configuration (JSON)")->type_name("FILE");
    CLI::Option* output = add_output(app, options->workdir, "DIR", "the working directory (created)");
    CLI::Option* resume = app->add_option("--resume", options->resume, "continue the run in WORKDIR")->type_name("WORKDIR");
    resume->excludes(config)->excludes(output);
    config->needs(output);
    app->parse_complete_callback([options] {
        if (options->config.empty() && options->resume.empty()) throw CLI::RequiredError("--config or --resume");
    });
    repeatable(app->add_option("--compare", options->compare, "another run's WORKDIR, drawn in the learning curve")->type_name("WORKDIR"));
    return {app, [options] { run_learn(*options); }};
}

}  // namespace atomfp::cli
