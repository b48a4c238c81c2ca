// Strict reading of JSON specifications: every key must be consumed, every value must have the
// right type and range, and every error names the key (with its path inside nested objects).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace atomfp {

using json = nlohmann::json;

// The deepest nesting of objects and arrays a specification, configuration or model header may have.
constexpr int max_json_depth = 32;

// Parses untrusted JSON text: Error(json_error) for malformed text, numbers beyond the range of a
// double, nesting deeper than max_json_depth, or a key given twice in one object.
json parse_json(const std::string& text);

class SpecReader {
public:
    // `path` prefixes key names in messages, e.g. "angular[3]".
    explicit SpecReader(const json& object, std::string path = "");

    bool has(const std::string& key) const;

    double number(const std::string& key, std::optional<double> fallback = std::nullopt,
                  double min = -std::numeric_limits<double>::infinity(),
                  double max = std::numeric_limits<double>::infinity(), bool min_exclusive = false);
    int64_t integer(const std::string& key, std::optional<int64_t> fallback = std::nullopt,
                    int64_t min = std::numeric_limits<int64_t>::min(),
                    int64_t max = std::numeric_limits<int64_t>::max());
    std::string string(const std::string& key, std::optional<std::string> fallback,
                       const std::vector<std::string>& allowed);
    bool boolean(const std::string& key, std::optional<bool> fallback = std::nullopt);
    std::vector<int64_t> integer_list(const std::string& key, int64_t min, int64_t max);
    // A list of elements, each an atomic number (14) or a chemical symbol ("Si").
    std::vector<int32_t> element_list(const std::string& key);
    // The object at `key` (required) mapping element pairs "A-B" (symbols, either order) to objects:
    // calls read(za, zb, reader) for each with za <= zb, then reader.finish(); a pair named twice fails.
    void element_pairs(const std::string& key, const std::function<void(int32_t, int32_t, SpecReader&)>& read);
    // The array at `key` (required); each element is read by the caller through element().
    const json& array(const std::string& key);
    SpecReader element(const std::string& key, std::size_t index, const json& value) const;
    // The nested object at `key` (required), read with its own reader and path.
    SpecReader object(const std::string& key);
    // The raw value at `key` (required), for structured data the caller validates itself.
    const json& value(const std::string& key);

    // Throws for any key that was not read, naming it.
    void finish() const;

    std::string key_name(const std::string& key) const;

private:
    const json& require(const std::string& key);

    const json& object_;
    std::string path_;
    std::set<std::string> consumed_;
    // Every key asked for, present or not: the keys this object knows, for suggestions.
    mutable std::set<std::string> asked_;
};

}  // namespace atomfp
