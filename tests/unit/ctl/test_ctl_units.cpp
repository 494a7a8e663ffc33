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
    for (const char* needle :
         {"Type=notify", "Restart=on-failure", "LimitMEMLOCK=infinity", "NoNewPrivileges=yes", "ProtectSystem=strict",
          "RuntimeDirectory=peaknet", "WatchdogSec=", "PartOf=peaknet.target"}) {
      EXPECT_NE(text.find(needle), std::string::npos) << name << " lacks " << needle;
    }
  }
  EXPECT_NE(read(kUnitDir + "/peaknet-inferd@.service").find("--instance %i"), std::string::npos);
  EXPECT_NE(read(kUnitDir + "/peaknet-writerd.service").find("ReadWritePaths="), std::string::npos);
}

// The [Unit]/[Service] section that holds `key` ("" when absent): systemd ignores a key in the wrong one.
static std::string section_of(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string section;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '[') section = line;
    if (line.rfind(key + "=", 0) == 0) return section;
  }
  return "";
}

TEST(CtlUnits, StartLimitsAreInUnitSectionWhereSystemdReadsThem) {
  for (const char* name :
       {"peaknet-ingestd.service", "peaknet-inferd@.service", "peaknet-writerd.service", "peaknet-metrics.service"}) {
    const std::string text = read(kUnitDir + "/" + name);
    EXPECT_EQ(section_of(text, "StartLimitIntervalSec"), "[Unit]") << name;
    EXPECT_EQ(section_of(text, "StartLimitBurst"), "[Unit]") << name;
  }
}

TEST(CtlUnits, EveryUnitSharesOneGroupReadableRuntimeDirectory) {
  for (const char* name :
       {"peaknet-ingestd.service", "peaknet-inferd@.service", "peaknet-writerd.service", "peaknet-metrics.service"}) {
    const std::string text = read(kUnitDir + "/" + name);
    for (const char* needle : {"RuntimeDirectory=peaknet\n", "RuntimeDirectoryPreserve=yes",
                               "RuntimeDirectoryMode=0750", "Group=peaknet", "PartOf=peaknet.target"}) {
      EXPECT_NE(text.find(needle), std::string::npos) << name << " lacks " << needle;
    }
  }
  // The target pulls in the exporter too (inferd instances are added per node by the installer).
  EXPECT_NE(read(kUnitDir + "/peaknet.target").find("peaknet-metrics.service"), std::string::npos);
}

TEST(CtlUnits, StopOrderIsPipelineOrder) {
  // systemd stops in reverse start order: writerd starts first, inferd@ after it, ingestd last.
  const std::string ingestd = read(kUnitDir + "/peaknet-ingestd.service");
  const std::string inferd = read(kUnitDir + "/peaknet-inferd@.service");
  EXPECT_NE(ingestd.find("After=peaknet.target network-online.target peaknet-writerd.service"), std::string::npos);
  EXPECT_NE(inferd.find("After=peaknet.target peaknet-writerd.service"), std::string::npos);
  EXPECT_NE(inferd.find("Before=peaknet-ingestd.service"), std::string::npos);
  EXPECT_EQ(inferd.find("inferd.gpu=%i"), std::string::npos) << "the instance (N or cpuN) names the device";
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
    if (e.path().filename().string().find('@') == std::string::npos)
      files += " " + (tmp / e.path().filename()).string();
  }
  std::ofstream(tmp / "peaknet-inferd@0.service") << read((tmp / "peaknet-inferd@.service").string());
  std::ofstream(tmp / "peaknet-inferd@cpu0.service") << read((tmp / "peaknet-inferd@.service").string());
  files += " " + (tmp / "peaknet-inferd@0.service").string() + " " + (tmp / "peaknet-inferd@cpu0.service").string();
  const std::string log = (tmp / "verify.log").string();
  const int rc = std::system(
      ("SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no" + files + " > " + log + " 2>&1").c_str());
  const std::string out = read(log);
  std::filesystem::remove_all(tmp);
  // Complaints about the host (no running systemd in a container) are not about our units.
  if (rc != 0 && out.find("peaknet") == std::string::npos) GTEST_SKIP() << "systemd-analyze unusable here: " << out;
  EXPECT_EQ(rc, 0) << out;
}
