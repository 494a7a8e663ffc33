// The systemd units: `systemd-analyze verify` when available, plus the settings the design requires.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {
std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
const std::string kUnitDir = std::string(PEAKNET_SOURCE_DIR) + "/systemd";
}  // namespace

TEST(CtlUnits, ServicesAreNotifyWithHardeningAndMemlock) {
  for (const char* name : {"peaknet-ingestd.service", "peaknet-inferd@.service", "peaknet-writerd.service"}) {
    const std::string text = read(kUnitDir + "/" + name);
    ASSERT_FALSE(text.empty()) << name;
    for (const char* needle : {"Type=notify", "Restart=on-failure", "LimitMEMLOCK=infinity", "NoNewPrivileges=yes",
                               "ProtectSystem=strict", "RuntimeDirectory=peaknet", "WatchdogSec=", "PartOf=peaknet.target"}) {
      EXPECT_NE(text.find(needle), std::string::npos) << name << " lacks " << needle;
    }
  }
  EXPECT_NE(read(kUnitDir + "/peaknet-inferd@.service").find("--instance %i"), std::string::npos);
  EXPECT_NE(read(kUnitDir + "/peaknet-writerd.service").find("ReadWritePaths="), std::string::npos);
}

TEST(CtlUnits, SystemdAnalyzeVerify) {
  if (std::system("command -v systemd-analyze >/dev/null 2>&1") != 0) GTEST_SKIP() << "no systemd-analyze";
  // verify needs the ExecStart binaries to exist: point a copy of the units at /bin/true.
  const auto tmp = std::filesystem::temp_directory_path() / ("pk-units-" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  std::string files;
  for (const auto& e : std::filesystem::directory_iterator(kUnitDir)) {
    std::string text = read(e.path().string());
    for (size_t p; (p = text.find("/usr/local/bin/")) != std::string::npos;) {
      const size_t end = text.find(' ', p);
      text.replace(p, end - p, "/bin/true");
    }
    std::ofstream(tmp / e.path().filename()) << text;
    if (e.path().filename().string().find('@') == std::string::npos) files += " " + (tmp / e.path().filename()).string();
  }
  std::ofstream(tmp / "peaknet-inferd@0.service") << read((tmp / "peaknet-inferd@.service").string());
  files += " " + (tmp / "peaknet-inferd@0.service").string();
  const std::string log = (tmp / "verify.log").string();
  const int rc = std::system(("SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no" + files + " > " + log + " 2>&1").c_str());
  const std::string out = read(log);
  std::filesystem::remove_all(tmp);
  // Complaints about the host (no running systemd in a container) are not about our units.
  if (rc != 0 && out.find("peaknet") == std::string::npos) GTEST_SKIP() << "systemd-analyze unusable here: " << out;
  EXPECT_EQ(rc, 0) << out;
}
