#include "core/json_spec.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

namespace atomfp {

json parse_json(const std::string& text) {
    // The callback sees every event before the value is built, so limits act before memory is spent.
    std::vector<std::set<std::string>> keys_of_open_objects;
    const auto check = [&](int depth, json::parse_event_t event, json& parsed) {
        switch (event) {
            case json::parse_event_t::object_start:
            case json::parse_event_t::array_start:
                if (depth >= max_json_depth) {
                    fail(Status::json_error, "JSON nested deeper than ", max_json_depth, " levels");
                }
                if (event == json::parse_event_t::object_start) keys_of_open_objects.emplace_back();
                break;
            case json::parse_event_t::object_end:
                if (!keys_of_open_objects.empty()) keys_of_open_objects.pop_back();
                break;
            case json::parse_event_t::key: {
                const std::string& key = parsed.get_ref<const std::string&>();
                if (!keys_of_open_objects.empty() && !keys_of_open_objects.back().insert(key).second) {
                    fail(Status::json_error, "key '", key.substr(0, 64), "' appears twice in one object");
                }
                break;
            }
            default:
                break;
        }
        return true;
    };
    try {
        return json::parse(text, check);
    } catch (const json::exception& e) {
        fail(Status::json_error, "malformed JSON: ", e.what());
    }
}

SpecReader::SpecReader(const json& object, std::string path) : object_(object), path_(std::move(path)) {
    if (!object_.is_object()) {
        fail(Status::json_error, path_.empty() ? std::string("the specification") : path_,
             " must be a JSON object, got ", object_.type_name());
    }
}

std::string SpecReader::key_name(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
}

bool SpecReader::has(const std::string& key) const {
    asked_.insert(key);
    return object_.contains(key);
}

const json& SpecReader::require(const std::string& key) {
    asked_.insert(key);
    auto it = object_.find(key);
    if (it == object_.end()) fail(Status::json_error, "missing required key '", key_name(key), "'");
    consumed_.insert(key);
    return *it;
}

double SpecReader::number(const std::string& key, std::optional<double> fallback, double min,
                          double max, bool min_exclusive) {
    if (!has(key)) {
        if (!fallback) require(key);
        return *fallback;
    }
    const json& value = require(key);
    if (!value.is_number()) {
        fail(Status::json_error, "key '", key_name(key), "' must be a number, got ", value.type_name());
    }
    double x = value.get<double>();
    bool below = min_exclusive ? !(x > min) : !(x >= min);
    if (!std::isfinite(x) || below || !(x <= max)) {
        fail(Status::json_error, "key '", key_name(key), "' = ", x, " is out of range ", min_exclusive ? "(" : "[",
             min, ", ", max, "]");
    }
    return x;
}

int64_t SpecReader::integer(const std::string& key, std::optional<int64_t> fallback, int64_t min,
                            int64_t max) {
    if (!has(key)) {
        if (!fallback) require(key);
        return *fallback;
    }
    const json& value = require(key);
    if (!value.is_number_integer()) {
        fail(Status::json_error, "key '", key_name(key), "' must be an integer, got ", value.dump());
    }
    if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(max)) {
        fail(Status::json_error, "key '", key_name(key), "' = ", value.dump(), " is out of range [", min, ", ", max, "]");
    }
    int64_t x = value.get<int64_t>();
    if (x < min || x > max) {
        fail(Status::json_error, "key '", key_name(key), "' = ", x, " is out of range [", min, ", ", max, "]");
    }
    return x;
}

std::string SpecReader::string(const std::string& key, std::optional<std::string> fallback,
                               const std::vector<std::string>& allowed) {
    if (!has(key)) {
        if (!fallback) require(key);
        return *fallback;
    }
    const json& value = require(key);
    if (!value.is_string()) {
        fail(Status::json_error, "key '", key_name(key), "' must be a string, got ", value.type_name());
    }
    std::string s = value.get<std::string>();
    if (allowed.empty()) return s;
    for (const auto& a : allowed) {
        if (a == s) return s;
    }
    std::string choices;
    for (const auto& a : allowed) choices += (choices.empty() ? "\"" : ", \"") + a + "\"";
    fail(Status::json_error, "key '", key_name(key), "' = \"", s, "\" is not one of ", choices);
}

std::vector<int64_t> SpecReader::integer_list(const std::string& key, int64_t min, int64_t max) {
    const json& value = require(key);
    if (!value.is_array()) {
        fail(Status::json_error, "key '", key_name(key), "' must be an array, got ", value.type_name());
    }
    std::vector<int64_t> out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const json& v = value[i];
        if (!v.is_number_integer()) {
            fail(Status::json_error, "key '", key_name(key), "[", i, "]' must be an integer, got ", v.dump());
        }
        int64_t x = v.get<int64_t>();
        if (x < min || x > max) {
            fail(Status::json_error, "key '", key_name(key), "[", i, "]' = ", x, " is out of range [", min, ", ",
                 max, "]");
        }
        out.push_back(x);
    }
    return out;
}

std::vector<int32_t> SpecReader::element_list(const std::string& key) {
    const json& value = array(key);
    std::vector<int32_t> out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const json& v = value[i];
        int64_t z = 0;
        if (v.is_number_integer()) {
            z = v.get<int64_t>();
        } else if (v.is_string()) {
            z = atomic_number(v.get<std::string>());
        } else {
            fail(Status::json_error, "key '", key_name(key), "[", i, "]' must be an atomic number or a chemical symbol, got ",
                 v.dump());
        }
        if (z < 1 || z > 118) {
            fail(Status::json_error, "key '", key_name(key), "[", i, "]' = ", v.dump(),
                 " is not an element (atomic numbers 1..118 or symbols such as \"Si\")");
        }
        out.push_back(static_cast<int32_t>(z));
    }
    return out;
}

void SpecReader::element_pairs(const std::string& key, const std::function<void(int32_t, int32_t, SpecReader&)>& read) {
    const json& pairs = require(key);
    if (!pairs.is_object()) fail(Status::json_error, "key '", key_name(key), "' must map element pairs such as \"Si-C\" to objects");
    std::set<std::pair<int32_t, int32_t>> seen;
    for (const auto& [name, value] : pairs.items()) {
        const std::size_t dash = name.find('-');
        const int32_t za = dash == std::string::npos ? 0 : atomic_number(name.substr(0, dash));
        const int32_t zb = dash == std::string::npos ? 0 : atomic_number(name.substr(dash + 1));
        if (za == 0 || zb == 0) fail(Status::json_error, "key '", key_name(key), "' names '", name, "': not two elements such as \"Si-C\"");
        const std::string path = key_name(key) + "." + name;
        if (!value.is_object()) fail(Status::json_error, "key '", path, "' must be an object");
        const auto pair = za < zb ? std::make_pair(za, zb) : std::make_pair(zb, za);
        if (!seen.insert(pair).second) fail(Status::json_error, "key '", key_name(key), "' names the pair ", name, " twice");
        SpecReader entry(value, path);
        read(pair.first, pair.second, entry);
        entry.finish();
    }
}

const json& SpecReader::array(const std::string& key) {
    const json& value = require(key);
    if (!value.is_array()) {
        fail(Status::json_error, "key '", key_name(key), "' must be an array, got ", value.type_name());
    }
    return value;
}

SpecReader SpecReader::element(const std::string& key, std::size_t index, const json& value) const {
    return SpecReader(value, key_name(key) + "[" + std::to_string(index) + "]");
}

bool SpecReader::boolean(const std::string& key, std::optional<bool> fallback) {
    if (!has(key)) {
        if (!fallback) require(key);
        return *fallback;
    }
    const json& value = require(key);
    if (!value.is_boolean()) fail(Status::json_error, "key '", key_name(key), "' must be true or false, got ", value.dump());
    return value.get<bool>();
}

SpecReader SpecReader::object(const std::string& key) {
    return SpecReader(require(key), key_name(key));
}

const json& SpecReader::value(const std::string& key) { return require(key); }

namespace {

// Levenshtein distance (insertions, deletions, substitutions), for suggesting a misspelt key.
std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace

void SpecReader::finish() const {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
        if (consumed_.count(it.key())) continue;
        // The keys this object was asked for are the ones it knows; the nearest within a third of
        // the key's length (at least 1, at most 3 edits) is suggested.
        const std::string& unknown = it.key();
        std::string nearest;
        std::size_t best = std::clamp<std::size_t>(unknown.size() / 3, 1, 3) + 1;
        if (unknown.size() <= 64) {
            for (const std::string& known : asked_) {
                const std::size_t d = edit_distance(unknown, known);
                if (d < best) best = d, nearest = known;
            }
        }
        if (nearest.empty()) fail(Status::json_error, "unknown key '", key_name(unknown), "'");
        fail(Status::json_error, "unknown key '", key_name(unknown), "' (did you mean '", nearest, "'?)");
    }
}

}  // namespace atomfp
