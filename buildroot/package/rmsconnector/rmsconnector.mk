################################################################################
#
# rmsconnector
#
################################################################################

# The workspace this external tree lives in; cargo vendors its dependencies at download
# time (Buildroot's cargo-package), so the build itself runs --offline --locked.
RMSCONNECTOR_VERSION = 0.1.0
RMSCONNECTOR_SITE = $(BR2_EXTERNAL_RMSC_PATH)/..
RMSCONNECTOR_SITE_METHOD = local
RMSCONNECTOR_LICENSE = Apache-2.0
RMSCONNECTOR_DEPENDENCIES = libkrb5
# The workspace root is a virtual manifest: build only the daemon's crate.
RMSCONNECTOR_CARGO_BUILD_OPTS = -p rmsc-connectord
# Keep the local copy small: the image outputs and the Buildroot tree are not sources.
RMSCONNECTOR_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = --exclude target --exclude buildroot --exclude .git

# `cargo install --path ./` cannot install from a virtual workspace; copy the one binary.
define RMSCONNECTOR_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 \
		$(@D)/target/$(RUSTC_TARGET_NAME)/$(if $(BR2_ENABLE_DEBUG),debug,release)/rmsconnector \
		$(TARGET_DIR)/usr/bin/rmsconnector
endef

$(eval $(cargo-package))
