// An enum whose values have names: the values of a choice option of the config file (the option
// table in collector/config/config.cpp). Each enum declares, next to itself, one array of names,
// the option table's list "a|b|c" and its default value; parse_choice and choice_name are the only
// translations between text and value, and choices_list_names() proves at compile time that the
// table's list is exactly the array, in order.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace aurelay {

template <typename Enum>
struct ChoiceName {
  std::string_view name;
  Enum value;
};

template <typename Enum, std::size_t N>
constexpr std::optional<Enum> parse_choice(const std::array<ChoiceName<Enum>, N>& names,
                                           std::string_view text) {
  for (const auto& entry : names) {
    if (entry.name == text) return entry.value;
  }
  return std::nullopt;
}

template <typename Enum, std::size_t N>
constexpr std::string_view choice_name(const std::array<ChoiceName<Enum>, N>& names, Enum value) {
  for (const auto& entry : names) {
    if (entry.value == value) return entry.name;
  }
  return {};
}

// True when `choices` is "a|b|c" listing exactly the names, in order, each value once.
template <typename Enum, std::size_t N>
constexpr bool choices_list_names(std::string_view choices,
                                  const std::array<ChoiceName<Enum>, N>& names) {
  for (std::size_t i = 0; i < N; ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (names[i].value == names[j].value || names[i].name == names[j].name) return false;
    }
  }
  std::string_view rest = choices;
  for (const auto& entry : names) {
    if (entry.name.empty() || !rest.starts_with(entry.name)) return false;
    rest.remove_prefix(entry.name.size());
    if (!rest.empty()) {
      if (rest.front() != '|') return false;
      rest.remove_prefix(1);
      if (rest.empty()) return false;
    }
  }
  return rest.empty();
}

}  // namespace aurelay
