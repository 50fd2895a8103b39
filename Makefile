# Builds mdevkit as a native binary and installs it (DESTDIR-aware):
#   make && sudo make install            # into /usr
#   make install DESTDIR=/tmp/staging    # for packaging
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
UDEVDIR ?= $(PREFIX)/lib/udev/rules.d
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
MANDIR ?= $(PREFIX)/share/man/man8
SCRIPTDIR ?= $(PREFIX)/lib/mdevctl/scripts.d
SYSCONFDIR ?= /etc
RID ?= linux-x64
PUBLISHED := artifacts/publish/mdevkit

.PHONY: all install uninstall clean FORCE

all: $(PUBLISHED)

# Always handed to dotnet publish, which knows best whether a source changed.
$(PUBLISHED): FORCE
	dotnet publish src/Mdevkit.Cli -c Release -r $(RID) -p:PublishAot=true -o artifacts/publish -nologo

install: $(PUBLISHED)
	install -D -m 0755 $(PUBLISHED) $(DESTDIR)$(SBINDIR)/mdevkit
	ln -sf mdevkit $(DESTDIR)$(SBINDIR)/mdevctl
	ln -sf mdevkit $(DESTDIR)$(SBINDIR)/lsmdev
	install -D -m 0644 dist/60-mdevkit.rules $(DESTDIR)$(UDEVDIR)/60-mdevkit.rules
	install -D -m 0644 dist/mdevkit.bash-completion $(DESTDIR)$(COMPLETIONDIR)/mdevkit
	ln -sf mdevkit $(DESTDIR)$(COMPLETIONDIR)/mdevctl
	ln -sf mdevkit $(DESTDIR)$(COMPLETIONDIR)/lsmdev
	install -D -m 0644 dist/mdevkit.8 $(DESTDIR)$(MANDIR)/mdevkit.8
	ln -sf mdevkit.8 $(DESTDIR)$(MANDIR)/mdevctl.8
	ln -sf mdevkit.8 $(DESTDIR)$(MANDIR)/lsmdev.8
	install -d -m 0755 $(DESTDIR)$(SCRIPTDIR)/callouts $(DESTDIR)$(SCRIPTDIR)/notifiers
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/mdevctl.d/scripts.d/callouts $(DESTDIR)$(SYSCONFDIR)/mdevctl.d/scripts.d/notifiers

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/mdevkit $(DESTDIR)$(SBINDIR)/mdevctl $(DESTDIR)$(SBINDIR)/lsmdev
	rm -f $(DESTDIR)$(UDEVDIR)/60-mdevkit.rules
	rm -f $(DESTDIR)$(COMPLETIONDIR)/mdevkit $(DESTDIR)$(COMPLETIONDIR)/mdevctl $(DESTDIR)$(COMPLETIONDIR)/lsmdev
	rm -f $(DESTDIR)$(MANDIR)/mdevkit.8 $(DESTDIR)$(MANDIR)/mdevctl.8 $(DESTDIR)$(MANDIR)/lsmdev.8

clean:
	rm -rf artifacts
