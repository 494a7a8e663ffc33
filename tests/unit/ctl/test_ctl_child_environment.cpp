// What peakctl puts into a daemon's environment: the malloc tunable ingestd needs for large messages
// (with the operator's own GLIBC_TUNABLES kept), and ChildSet passing a launch's environment to the real
// child process on top of peakctl's own.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

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
  DaemonLaunch launch{"probe",
                      "",
                      "probe",
                      {"/bin/sh", "-c",
                       "echo \"inherited=$PEAKNET_TEST_INHERITED replaced=$PEAKNET_TEST_REPLACED "
                       "added=$PEAKNET_TEST_ADDED\""},
                      {"PEAKNET_TEST_REPLACED=new", "PEAKNET_TEST_ADDED=yes"}};
  children.spawn(launch);
  const std::string log = read_log_when_exited(children, dir.path(), "probe");
  ::unsetenv("PEAKNET_TEST_INHERITED");
  ::unsetenv("PEAKNET_TEST_REPLACED");
  EXPECT_NE(log.find("inherited=kept replaced=new added=yes"), std::string::npos) << log;
}

TEST(CtlChildSet, FailureReportShowsOnlyWhatThisSpawnWrote) {
  // A failing daemon under `peakctl run` must show its new error, not an earlier run's lines.
  test::TempDir dir("child-log");
  std::ofstream(dir.path() + "/probe.log") << "earlier run: old error\n";
  ChildSet children(dir.path());
  children.spawn({"probe", "", "probe", {"/bin/sh", "-c", "echo 'weights file missing' >&2; exit 1"}, {}});
  read_log_when_exited(children, dir.path(), "probe");
  const auto tail = children.log_since_spawn("probe", 15);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0], "weights file missing");
}

TEST(CtlChildSet, ChildrenEndWhenPeakctlIsKilled) {
  // peakctl killed outright (SIGKILL: no destructor runs) must not leave its daemons running.
  test::TempDir dir("child-death");
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // the orphaned daemon comes to us: waitpid tells when it is gone
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t peakctl = ::fork();
  ASSERT_GE(peakctl, 0);
  if (peakctl == 0) {
    ChildSet children(dir.path());
    children.spawn({"probe", "", "probe", {"/bin/sleep", "60"}, {}});
    const int pid = children.pid("probe");
    [[maybe_unused]] auto n = ::write(fds[1], &pid, sizeof pid);
    ::pause();  // until SIGKILL
    ::_exit(0);
  }
  ::close(fds[1]);
  int child = 0;
  ASSERT_EQ(::read(fds[0], &child, sizeof child), ssize_t(sizeof child));
  ::close(fds[0]);
  ASSERT_GT(child, 0);
  EXPECT_EQ(::kill(child, 0), 0);
  ::kill(peakctl, SIGKILL);
  ::waitpid(peakctl, nullptr, 0);
  bool gone = false;
  int status = 0;
  for (int i = 0; i < 1000 && !gone; ++i) {
    gone = ::waitpid(child, &status, WNOHANG) == child;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!gone) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  EXPECT_TRUE(!gone || (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM));
  EXPECT_TRUE(gone) << "the daemon outlived peakctl";
}

}  // namespace
}  // namespace peaknet::ctl
