# `cmake --install` puts binaries, systemd units and configs in place.
include(GNUInstallDirs)
install(DIRECTORY ${PEAKNET_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_SYSCONFDIR}/peaknet
        FILES_MATCHING PATTERN "*.json")
install(DIRECTORY ${PEAKNET_SOURCE_DIR}/systemd/ DESTINATION lib/systemd/system
        FILES_MATCHING PATTERN "*.service" PATTERN "*.target")
