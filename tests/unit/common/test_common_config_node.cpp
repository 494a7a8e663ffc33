#include <gtest/gtest.h>

#include "common/config/config_node.hpp"

using nlohmann::json;
using peaknet::config::ConfigError;
using peaknet::config::ConfigNode;

namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

TEST(ConfigNode, ReadsTypedValuesAndFallsBackToDefaults) {
  ConfigNode sut(json{{"n", 4}, {"x", 2.5}, {"s", "hi"}, {"b", true}}, "config.t");
  EXPECT_EQ(sut.get_int("n", 1), 4);
  EXPECT_DOUBLE_EQ(sut.get_double("x", 0.0), 2.5);
  EXPECT_EQ(sut.get_string("s", ""), "hi");
  EXPECT_TRUE(sut.get_bool("b", false));
  EXPECT_EQ(sut.get_int("missing", 7), 7);
  EXPECT_NO_THROW(sut.finish());
}

TEST(ConfigNode, UnknownKeyIsAnErrorNamingThePath) {
  ConfigNode sut(json{{"batch_size", 4}, {"batch_sise", 8}}, "config.inferd");
  sut.get_int("batch_size", 1);
  EXPECT_EQ(error_of([&] { sut.finish(); }), "config.inferd.batch_sise: unknown key (value 8)");
}

TEST(ConfigNode, OutOfRangeNamesKeyAndValue) {
  ConfigNode sut(json{{"batch_size", 0}}, "config.inferd");
  EXPECT_EQ(error_of([&] { sut.get_int("batch_size", 1, 1, 1024); }), "config.inferd.batch_size: must be >= 1, got 0");
}

TEST(ConfigNode, WrongTypeNamesKeyAndValue) {
  ConfigNode sut(json{{"batch_size", "8"}}, "config.inferd");
  EXPECT_EQ(error_of([&] { sut.get_int("batch_size", 1); }), "config.inferd.batch_size: must be an integer, got \"8\"");
  ConfigNode floats(json{{"n", 1.5}}, "config");
  EXPECT_NE(error_of([&] { floats.get_int("n", 1); }).find("must be an integer"), std::string::npos);
}

TEST(ConfigNode, EnumRejectsValuesOutsideTheList) {
  ConfigNode sut(json{{"policy", "drop_all"}}, "config.q1");
  EXPECT_EQ(error_of([&] {
              sut.get_enum("policy", "block", {"block", "drop_oldest"});
            }),
            "config.q1.policy: must be one of {block, drop_oldest}, got \"drop_all\"");
}

TEST(ConfigNode, NestedChildrenCarryTheirPath) {
  ConfigNode root(json{{"source", {{"type", "zmq"}, {"bogus", 1}}}}, "config.ingestd");
  auto child = root.child("source");
  EXPECT_EQ(child.get_string("type", ""), "zmq");
  EXPECT_EQ(error_of([&] { child.finish(); }), "config.ingestd.source.bogus: unknown key (value 1)");
}

TEST(ConfigNode, ListsAreCheckedItemByItem) {
  ConfigNode sut(json{{"shape", {1, 0, 5}}}, "config.s");
  EXPECT_EQ(error_of([&] { sut.get_int_list("shape", {}, 1, 100); }), "config.s.shape[1]: must be in [1, 100], got 0");
}

TEST(ConfigNode, NonObjectSectionIsAnError) {
  EXPECT_EQ(error_of([] { ConfigNode(json::array(), "config.q1"); }), "config.q1: must be an object, got []");
}
