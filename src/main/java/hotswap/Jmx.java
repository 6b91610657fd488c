package hotswap;

import hotswap.wire.Protocol;
import hotswap.wire.StatusReport;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Registers a started Hotswap's MXBeans on the platform MBeanServer, under the names
 * {@link ServerMXBean} describes, and unregisters them. A bean that cannot be registered is
 * logged and left out: JMX is a window on the app, and no reason to refuse to serve it.
 */
final class Jmx {
    private static final Logger LOG = Logger.getLogger(Jmx.class.getName());

    private final MBeanServer server;
    private final List<ObjectName> registered = new ArrayList<>();

    private Jmx(MBeanServer server) {
        this.server = server;
    }

    /** Registers the server's bean and one per database. */
    static Jmx register(Hotswap hotswap) {
        Jmx jmx;
        try {
            jmx = new Jmx(ManagementFactory.getPlatformMBeanServer());
        } catch (RuntimeException e) {
            LOG.warning(() -> "no platform MBeanServer (" + e + "); hotswap's MXBeans are not registered, hotswap status still works");
            return new Jmx(null);
        }
        Status status = new Status(hotswap);
        String socket = ",socket=" + value(hotswap.socket().toAbsolutePath().toString());
        jmx.add("hotswap:type=Server" + socket, new ServerBean(status));
        Map<String, Integer> names = new HashMap<>();
        hotswap.databases().forEach(db -> names.merge(db.name(), 1, Integer::sum));
        for (ManagedDatabase db : hotswap.databases()) {
            String path = names.get(db.name()) > 1 ? ",path=" + value(db.path().toString()) : "";
            jmx.add("hotswap:type=Database,name=" + value(db.name()) + socket + path, new DatabaseBean(status, db));
        }
        return jmx;
    }

    /** The names registered, in order: the server's first. */
    List<ObjectName> names() {
        return List.copyOf(registered);
    }

    private void add(String name, Object bean) {
        try {
            ObjectName objectName = new ObjectName(name);
            server.registerMBean(bean, objectName);
            registered.add(objectName);
        } catch (JMException | RuntimeException e) {
            LOG.warning(() -> "could not register the MXBean " + name + " (" + e + "); hotswap status still shows its figures");
        }
    }

    /** Unregisters every bean registered; one already gone is skipped. */
    void unregister() {
        if (server == null) {
            return;
        }
        for (ObjectName name : registered) {
            try {
                server.unregisterMBean(name);
            } catch (JMException | RuntimeException e) {
                LOG.fine(() -> "unregistering " + name + ": " + e);
            }
        }
        registered.clear();
    }

    /** {@code s} as an ObjectName value: bare where it may be, else quoted. */
    static String value(String s) {
        boolean bare = !s.isEmpty() && s.chars().noneMatch(c -> ",=:\"*?\n\\".indexOf(c) >= 0);
        return bare ? s : ObjectName.quote(s);
    }

    private static final class ServerBean implements ServerMXBean {
        private final Status status;

        ServerBean(Status status) {
            this.status = status;
        }

        private StatusReport.Server now() {
            return status.server();
        }

        @Override
        public String getVersion() {
            return Protocol.RELEASE;
        }

        @Override
        public long getStartEpochMillis() {
            return now().startedMillis();
        }

        @Override
        public long getUptimeMillis() {
            return now().uptimeMillis();
        }

        @Override
        public String getSocket() {
            return now().socket();
        }

        @Override
        public int getSessionsInUse() {
            return now().sessions();
        }

        @Override
        public int getMaxSessions() {
            return now().maxSessions();
        }

        @Override
        public int getRequestsInFlight() {
            return now().inFlight();
        }

        @Override
        public int getRequestsWaiting() {
            return now().waiting();
        }
    }

    private static final class DatabaseBean implements DatabaseMXBean {
        private final Status status;
        private final ManagedDatabase db;

        DatabaseBean(Status status, ManagedDatabase db) {
            this.status = status;
            this.db = db;
        }

        @Override
        public String getName() {
            return db.name();
        }

        @Override
        public String getPath() {
            return db.path().toString();
        }

        @Override
        public long getSizeBytes() {
            return Status.sizeOf(db.path());
        }

        @Override
        public int getPageSize() {
            return status.sqliteFigures(db).pageSize();
        }

        @Override
        public long getPageCount() {
            return status.sqliteFigures(db).pageCount();
        }

        @Override
        public String getJournalMode() {
            return status.sqliteFigures(db).journalMode();
        }

        @Override
        public long getWalSizeBytes() {
            return Status.sizeOf(db.wal());
        }

        @Override
        public long getSwapCount() {
            return db.activity.swaps();
        }

        @Override
        public long getLastSwapEpochMillis() {
            StatusReport.Swap s = db.activity.lastSwap();
            return s == null ? 0 : s.atMillis();
        }

        @Override
        public long getLastSwapBytes() {
            StatusReport.Swap s = db.activity.lastSwap();
            return s == null ? 0 : s.bytes();
        }

        @Override
        public double getLastSwapPauseMillis() {
            StatusReport.Swap s = db.activity.lastSwap();
            return s == null ? 0 : s.pauseMillis();
        }

        @Override
        public String getLastSwapSource() {
            StatusReport.Swap s = db.activity.lastSwap();
            return s == null ? "" : s.source();
        }

        @Override
        public long getPullCount() {
            return db.activity.pulls();
        }

        @Override
        public long getLastPullEpochMillis() {
            StatusReport.Pull p = db.activity.lastPull();
            return p == null ? 0 : p.atMillis();
        }

        @Override
        public long getLastPullBytes() {
            StatusReport.Pull p = db.activity.lastPull();
            return p == null ? 0 : p.bytes();
        }

        @Override
        public long getLastPullDurationMillis() {
            StatusReport.Pull p = db.activity.lastPull();
            return p == null ? 0 : p.durationMillis();
        }
    }
}
