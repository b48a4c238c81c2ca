// Small self-contained SVG figures: a grid of panels, each with linear or logarithmic axes, line
// and marker series and a legend. Enough for the CLI's diagnostic plots; the output is plain SVG
// 1.1 that browsers and vector editors open directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace atomfp::cli {

struct Series {
    enum class Style { line, markers, line_and_markers };
    enum class Marker { circle, triangle, square };
    std::string label;  // empty: not in the legend
    std::vector<double> x, y;
    Style style = Style::line;
    Marker marker = Marker::circle;
    std::string colour;  // empty: the next palette colour
};

// A grid of coloured cells with categorical axes, each cell labelled with its value.
struct Heatmap {
    std::vector<std::string> x_labels, y_labels;
    std::vector<double> values;  // [y][x]; non-finite values are drawn grey
    bool log_colour = true;      // colour by log10(value)
    int64_t marked = -1;         // index into values of a cell to outline (the best of a scan), or -1
};

struct Panel {
    Panel(std::string title_ = "", std::string x = "", std::string y = "", bool log_x_ = false, bool log_y_ = false,
          bool equal_aspect_ = false, std::vector<Series> series_ = {})
        : title(std::move(title_)), x_label(std::move(x)), y_label(std::move(y)), log_x(log_x_), log_y(log_y_),
          equal_aspect(equal_aspect_), series(std::move(series_)) {}

    std::string title, x_label, y_label;
    bool log_x = false, log_y = false;  // points with non-positive coordinates on a log axis are skipped
    bool equal_aspect = false;          // same data units per pixel on both axes
    std::vector<Series> series;
    std::vector<Heatmap> heatmap;  // at most one; drawn instead of the series when present
};

struct Figure {
    std::string title;
    std::vector<Panel> panels;
    int columns = 1;
    double panel_width = 560.0, panel_height = 300.0;  // pixels, including margins
};

// A histogram of `values` in `bins` equal bins over [lo, hi] as a line-and-markers series at the bin
// centres: counts, or fractions of the values counted. Values outside [lo, hi] or not finite are
// left out.
Series histogram_series(std::string label, const std::vector<double>& values, double lo, double hi, int bins, bool fractions);

std::string render_svg(const Figure& figure);

// Throws Error(io) if the file cannot be written.
void write_svg(const std::string& path, const Figure& figure);

}  // namespace atomfp::cli
