// What peakctl puts into a daemon's environment: the malloc tunable ingestd needs for large messages
// (with the operator's own GLIBC_TUNABLES kept), and ChildSet passing a launch's environment to the real
// child process on top of peakctl's own.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "child_set.hpp"
#include "malloc_tunables.hpp"
#include "test_guards.hpp"

namespace peaknet::ctl {
namespace {

TEST(CtlMallocTunables, AddsHugetlbAndKeepsTheOperatorsTunables) {
  EXPECT_EQ(with_hugetlb_malloc(""), "glibc.malloc.hugetlb=1");
  EXPECT_EQ(with_hugetlb_malloc("glibc.malloc.arena_max=2"), "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1");
  // An explicit choice (also "off") is the operator's.
  EXPECT_EQ(with_hugetlb_malloc("glibc.malloc.hugetlb=0"), "glibc.malloc.hugetlb=0");
  EXPECT_EQ(with_hugetlb_malloc("glibc.malloc.hugetlb=2:glibc.malloc.arena_max=2"),
            "glibc.malloc.hugetlb=2:glibc.malloc.arena_max=2");
}

std::string read_log_when_exited(ChildSet& children, const std::string& dir, const std::string& id) {
  for (int i = 0; i < 500 && children.alive_count() > 0; ++i) {
    children.reap();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::ifstream in(dir + "/" + id + ".log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(CtlChildSet, LaunchEnvironmentReachesTheChildOnTopOfPeakctls) {
  test::TempDir dir("child-env");
  ::setenv("PEAKNET_TEST_INHERITED", "kept", 1);
  ::setenv("PEAKNET_TEST_REPLACED", "old", 1);
  ChildSet children(dir.path());
  DaemonLaunch launch{"probe", "", "probe",
                      {"/bin/sh", "-c", "echo \"inherited=$PEAKNET_TEST_INHERITED replaced=$PEAKNET_TEST_REPLACED "
                                        "added=$PEAKNET_TEST_ADDED\""},
                      {"PEAKNET_TEST_REPLACED=new", "PEAKNET_TEST_ADDED=yes"}};
  children.spawn(launch);
  const std::string log = read_log_when_exited(children, dir.path(), "probe");
  ::unsetenv("PEAKNET_TEST_INHERITED");
  ::unsetenv("PEAKNET_TEST_REPLACED");
  EXPECT_NE(log.find("inherited=kept replaced=new added=yes"), std::string::npos) << log;
}

}  // namespace
}  // namespace peaknet::ctl
