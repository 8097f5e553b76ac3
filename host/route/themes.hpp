// Watch themes (the `themes:` section) compiled into ordinary routes, appended after the configured ones.
#pragma once

#include "route/rules.hpp"

namespace relais {

// Appends one route "theme:NAME" per theme of config.themes to table.routes: from the theme's sources (default:
// any), when the text holds one of its keywords (and the item is in one of its languages), relay to its room with
// a template that names the owner and the theme. Every mistake goes to `diags` at its line and column.
void compile_themes(const Config &config, RouteTable &table, Diagnostics &diags);

// The text a theme relays: "@owner [theme] {text} {link}" (braces in the owner and name are escaped).
std::string theme_template(const Theme &theme);

} // namespace relais
