# Builds mdevkit as a native binary, and installs it (DESTDIR-aware) or packages it for Debian:
#   make && sudo make install            # into /usr
#   make install DESTDIR=/tmp/staging    # for packaging
#   make deb                             # artifacts/deb/mdevkit_*.deb (with mdevkitd and mdevkit-dra) and mdevkit-mdevctl_*.deb
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
UDEVDIR ?= $(PREFIX)/lib/udev/rules.d
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
MANDIR ?= $(PREFIX)/share/man/man8
UNITDIR ?= $(PREFIX)/lib/systemd/system
SCRIPTDIR ?= $(PREFIX)/lib/mdevctl/scripts.d
SYSCONFDIR ?= /etc
RID ?= linux-x64
PUBLISHED := artifacts/publish/mdevkit
PUBLISHED_AGENT := artifacts/publish-agent/mdevkitd
PUBLISHED_DRA := artifacts/publish-dra/mdevkit-dra
VERSION := $(shell sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
# What the binary is built from; bin/ and obj/ hold build output, which every build rewrites.
SOURCES := $(shell find src \( -name bin -o -name obj \) -prune -o -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.json' -o -name '*.html' -o -name '*.css' -o -name '*.js' -o -name '*.proto' \) -print) \
	Directory.Build.props Directory.Packages.props global.json docs/openapi.json

# Files install writes, and the links that give mdevkit mdevctl's names; uninstall removes only these.
INSTALLED_FILES = $(SBINDIR)/mdevkit $(COMPLETIONDIR)/mdevkit $(MANDIR)/mdevkit.8 $(UDEVDIR)/60-mdevkit.rules $(SBINDIR)/mdevkitd $(UNITDIR)/mdevkitd.service $(MANDIR)/mdevkitd.8 \
	$(SBINDIR)/mdevkit-dra $(MANDIR)/mdevkit-dra.8
NAME_LINKS = $(SBINDIR)/mdevctl $(SBINDIR)/lsmdev $(COMPLETIONDIR)/mdevctl $(COMPLETIONDIR)/lsmdev $(MANDIR)/mdevctl.8 $(MANDIR)/lsmdev.8

# Installed mdevctl packages (Debian's, or ours) own the mdevctl and lsmdev names and a udev rule of their
# own: a plain install then leaves the names alone and adds no second rule, which would start devices twice.
MDEVCTL_PACKAGES = $(if $(DESTDIR),,$(shell dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' mdevctl mdevkit-mdevctl 2>/dev/null | awk '$$1 == "ii" {print $$2}'))

# debhelper's layout (debian/PACKAGE), where dpkg-shlibdeps expects a package's files.
DEB_STAGING := artifacts/deb-staging/debian
DEB_OUTPUT := artifacts/deb

.PHONY: all install install-mdevkit install-agent install-dra install-mdevctl-names uninstall deb clean

all: $(PUBLISHED) $(PUBLISHED_AGENT) $(PUBLISHED_DRA)

$(PUBLISHED): $(SOURCES)
	dotnet publish src/Mdevkit.Cli -c Release -r $(RID) -p:PublishAot=true -o artifacts/publish -nologo
	@# dotnet publish leaves an up-to-date binary's time alone; make must see it newer than the sources.
	touch $@

$(PUBLISHED_AGENT): $(SOURCES)
	dotnet publish src/Mdevkit.Agent -c Release -r $(RID) -p:PublishAot=true -o artifacts/publish-agent -nologo
	touch $@

# The Kubernetes DRA kubelet plugin; deploy/Containerfile puts this binary into its image.
$(PUBLISHED_DRA): $(SOURCES)
	dotnet publish src/Mdevkit.Kubernetes -c Release -r $(RID) -p:PublishAot=true -o artifacts/publish-dra -nologo
	touch $@

install: install-mdevkit install-agent install-dra
	@packages='$(strip $(MDEVCTL_PACKAGES))'; \
	if [ -n "$$packages" ]; then \
	  echo "make install: skipped the mdevctl and lsmdev names and the udev rule, which the installed $$packages package provides; to have mdevkit take them, run make deb and install artifacts/deb/mdevkit-mdevctl_*.deb (it replaces Debian's mdevctl)"; \
	else \
	  $(MAKE) --no-print-directory install-mdevctl-names; \
	fi

# The mdevkit name, its completion and man page, and both of mdevctl's script directory layouts
# (/usr/lib for mdevctl 1.3 and later, /etc for Debian 12's 1.2).
install-mdevkit: $(PUBLISHED)
	@if [ -z "$(DESTDIR)" ] && owner=$$(dpkg-query -S '$(SBINDIR)/mdevkit' 2>/dev/null); then \
	  echo "make install: $(SBINDIR)/mdevkit belongs to the $${owner%%:*} package; upgrade it with make deb instead" >&2; exit 1; \
	fi
	install -D -m 0755 $(PUBLISHED) $(DESTDIR)$(SBINDIR)/mdevkit
	install -D -m 0644 dist/mdevkit.bash-completion $(DESTDIR)$(COMPLETIONDIR)/mdevkit
	install -D -m 0644 dist/mdevkit.8 $(DESTDIR)$(MANDIR)/mdevkit.8
	install -d -m 0755 $(DESTDIR)$(SCRIPTDIR)/callouts $(DESTDIR)$(SCRIPTDIR)/notifiers
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/mdevctl.d/scripts.d/callouts $(DESTDIR)$(SYSCONFDIR)/mdevctl.d/scripts.d/notifiers

# The agent, its man page and its systemd unit (not enabled: that is the administrator's choice).
install-agent: $(PUBLISHED_AGENT)
	install -D -m 0755 $(PUBLISHED_AGENT) $(DESTDIR)$(SBINDIR)/mdevkitd
	install -D -m 0644 dist/mdevkitd.8 $(DESTDIR)$(MANDIR)/mdevkitd.8
	install -D -m 0644 dist/mdevkitd.service $(DESTDIR)$(UNITDIR)/mdevkitd.service

# The DRA kubelet plugin and its man page; on a cluster it runs from its image (deploy/), not from here.
install-dra: $(PUBLISHED_DRA)
	install -D -m 0755 $(PUBLISHED_DRA) $(DESTDIR)$(SBINDIR)/mdevkit-dra
	install -D -m 0644 dist/mdevkit-dra.8 $(DESTDIR)$(MANDIR)/mdevkit-dra.8

install-mdevctl-names:
	install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(COMPLETIONDIR) $(DESTDIR)$(MANDIR)
	ln -sf mdevkit $(DESTDIR)$(SBINDIR)/mdevctl
	ln -sf mdevkit $(DESTDIR)$(SBINDIR)/lsmdev
	ln -sf mdevkit $(DESTDIR)$(COMPLETIONDIR)/mdevctl
	ln -sf mdevkit $(DESTDIR)$(COMPLETIONDIR)/lsmdev
	ln -sf mdevkit.8 $(DESTDIR)$(MANDIR)/mdevctl.8
	ln -sf mdevkit.8 $(DESTDIR)$(MANDIR)/lsmdev.8
	install -D -m 0644 dist/60-mdevkit.rules $(DESTDIR)$(UDEVDIR)/60-mdevkit.rules

# A file that a package owns is the package's to remove, and a name is ours only while it links to mdevkit.
uninstall:
	@for path in $(INSTALLED_FILES); do \
	  if [ -z "$(DESTDIR)" ] && owner=$$(dpkg-query -S "$$path" 2>/dev/null); then \
	    echo "make uninstall: left $$path, which the $${owner%%:*} package owns"; continue; \
	  fi; \
	  rm -f "$(DESTDIR)$$path"; \
	done
	@for path in $(NAME_LINKS); do \
	  case "$$(readlink "$(DESTDIR)$$path")" in mdevkit | mdevkit.8) ;; *) continue ;; esac; \
	  if [ -z "$(DESTDIR)" ] && dpkg-query -S "$$path" >/dev/null 2>&1; then continue; fi; \
	  rm -f "$(DESTDIR)$$path"; \
	done

# Two packages from one build: mdevkit (with the agent) beside Debian's mdevctl, and mdevkit-mdevctl instead of it.
deb: $(PUBLISHED) $(PUBLISHED_AGENT) $(PUBLISHED_DRA)
	@test -n "$(VERSION)" || { echo "make deb: no <Version> in Directory.Build.props" >&2; exit 1; }
	rm -rf $(DEB_STAGING)
	$(MAKE) --no-print-directory install-mdevkit install-agent install-dra PREFIX=/usr SYSCONFDIR=/etc DESTDIR=$(CURDIR)/$(DEB_STAGING)/mdevkit
	$(MAKE) --no-print-directory install-mdevctl-names PREFIX=/usr SYSCONFDIR=/etc DESTDIR=$(CURDIR)/$(DEB_STAGING)/mdevkit-mdevctl
	scripts/build-deb.sh $(VERSION) $(DEB_STAGING) $(DEB_OUTPUT)

clean:
	rm -rf artifacts
