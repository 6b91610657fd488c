package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The MXBeans through the platform MBeanServer, and the flight recorder events through a real recording. */
class JmxAndJfrTest {
    private static final MBeanServer MBEANS = ManagementFactory.getPlatformMBeanServer();
    private final Fixtures.Scope scope = new Fixtures.Scope();

    @AfterEach
    void tearDown() {
        scope.close();
    }

    private Hotswap started(Hotswap.Builder builder) throws Exception {
        Hotswap h = builder.build();
        scope.add(h);
        h.start();
        return h;
    }

    private static ObjectName server(Path socket) throws Exception {
        return new ObjectName("hotswap:type=Server,socket=" + socket.toAbsolutePath());
    }

    private static ObjectName database(String name, Path socket) throws Exception {
        return new ObjectName("hotswap:type=Database,name=" + name + ",socket=" + socket.toAbsolutePath());
    }

    private static Set<ObjectName> hotswapBeansOf(Path socket) throws Exception {
        return MBEANS.queryNames(new ObjectName("hotswap:socket=" + socket.toAbsolutePath() + ",*"), null);
    }

    @Test
    void twoAppsInOneJvmEachRegisterTheirBeansOnStartShowTheirFiguresAndRemoveThemOnClose() throws Exception {
        Path a = scope.dir();
        Path b = scope.dir();
        Path dbA = Fixtures.itemsDb(a.resolve("production.sqlite3"), "a");
        Fixtures.itemsDb(b.resolve("production.sqlite3"), "b");
        Hotswap first = started(Hotswap.builder().database(dbA).socket(a.resolve("s.sock")));
        Hotswap second = Hotswap.builder().database(b.resolve("production.sqlite3")).socket(b.resolve("s.sock")).build();
        scope.add(second);
        assertEquals(Set.of(), hotswapBeansOf(b.resolve("s.sock")), "registered before start");
        second.start();
        assertEquals(Set.of(server(a.resolve("s.sock")), database("production.sqlite3", a.resolve("s.sock"))), hotswapBeansOf(a.resolve("s.sock")));
        assertEquals(Set.of(server(b.resolve("s.sock")), database("production.sqlite3", b.resolve("s.sock"))), hotswapBeansOf(b.resolve("s.sock")));

        Path pushed = Fixtures.itemsDb(a.resolve("new.sqlite3"), "x", "y");
        Fixtures.Result r = Fixtures.cli(a, Map.of("HOTSWAP_SOCKET", "s.sock"), null, "cp", "new.sqlite3", "production.sqlite3");
        assertEquals(0, r.exit(), r.toString());
        DatabaseMXBean db = JMX.newMXBeanProxy(MBEANS, database("production.sqlite3", a.resolve("s.sock")), DatabaseMXBean.class);
        assertEquals("production.sqlite3", db.getName());
        assertEquals(dbA.toRealPath().toString(), db.getPath());
        assertEquals(Files.size(dbA), db.getSizeBytes());
        assertEquals(4096, db.getPageSize());
        assertEquals(Long.parseLong(Fixtures.query(dbA, "PRAGMA page_count").get(0)), db.getPageCount());
        assertEquals("wal", db.getJournalMode());
        assertEquals(1, db.getSwapCount());
        assertEquals(Files.size(pushed), db.getLastSwapBytes());
        assertEquals("file", db.getLastSwapSource());
        assertTrue(db.getLastSwapEpochMillis() > 0 && db.getLastSwapPauseMillis() >= 0);
        assertEquals(0, db.getPullCount());
        assertEquals(0, db.getLastPullEpochMillis());
        assertEquals(0L, MBEANS.getAttribute(database("production.sqlite3", b.resolve("s.sock")), "SwapCount"), "the other app's database");

        ServerMXBean s = JMX.newMXBeanProxy(MBEANS, server(a.resolve("s.sock")), ServerMXBean.class);
        assertEquals(a.resolve("s.sock").toAbsolutePath().toString(), s.getSocket());
        assertEquals(Hotswap.DEFAULT_MAX_SESSIONS, s.getMaxSessions());
        assertEquals(0, s.getSessionsInUse());
        assertEquals(hotswap.wire.Protocol.RELEASE, s.getVersion());
        assertTrue(s.getStartEpochMillis() > 0 && s.getUptimeMillis() >= 0);
        try (SwapGate.Pass pass = first.gate().enter()) {
            assertEquals(1, s.getRequestsInFlight());
            assertEquals(0, s.getRequestsWaiting());
        }
        assertEquals(0, s.getRequestsInFlight());

        first.close();
        assertEquals(Set.of(), hotswapBeansOf(a.resolve("s.sock")));
        assertEquals(2, hotswapBeansOf(b.resolve("s.sock")).size(), "closing one app left the other's beans alone");
        second.close();
        assertEquals(Set.of(), hotswapBeansOf(b.resolve("s.sock")));
    }

    @Test
    void jmxFalseRegistersNothing() throws Exception {
        Path d = scope.dir();
        started(Hotswap.builder().database(Fixtures.itemsDb(d.resolve("p.sqlite3"), "x")).socket(d.resolve("s.sock")).jmx(false));
        assertEquals(Set.of(), hotswapBeansOf(d.resolve("s.sock")));
    }

    @Test
    void namesAnObjectNameCannotTakeBareAreQuotedAndTwoDatabasesOfOneNameAreToldApartByPath() throws Exception {
        Path d = scope.dir();
        String odd = "a,b=c:\"d\"*\\.sqlite3"; // '?' is refused in a database path
        Path x = Files.createDirectory(d.resolve("x"));
        Path y = Files.createDirectory(d.resolve("y"));
        started(Hotswap.builder().database(Fixtures.itemsDb(d.resolve(odd), "o")).database(Fixtures.itemsDb(x.resolve("p.sqlite3"), "x"))
                .database(Fixtures.itemsDb(y.resolve("p.sqlite3"), "y")).socket(d.resolve("s.sock")));
        String socket = ",socket=" + d.resolve("s.sock").toAbsolutePath();
        ObjectName quoted = new ObjectName("hotswap:type=Database,name=" + ObjectName.quote(odd) + socket);
        assertEquals(odd, MBEANS.getAttribute(quoted, "Name"));
        for (Path dir : List.of(x, y)) {
            ObjectName named = new ObjectName("hotswap:type=Database,name=p.sqlite3" + socket + ",path=" + dir.toRealPath().resolve("p.sqlite3"));
            assertEquals(dir.toRealPath().resolve("p.sqlite3").toString(), MBEANS.getAttribute(named, "Path"));
        }
        assertEquals(4, hotswapBeansOf(d.resolve("s.sock")).size());
    }

    @Test
    void aPushAndAPullAreRecordedAsFlightRecorderEventsWithTheSwapsPauseInsideThePush() throws Exception {
        Path d = scope.dir();
        Path db = Fixtures.itemsDb(d.resolve("p.sqlite3"), "old");
        started(Hotswap.builder().database(db).socket(d.resolve("s.sock")));
        Path pushed = Fixtures.itemsDb(d.resolve("new.sqlite3"), "new", "newer");
        Path file = d.resolve("recording.jfr");
        try (Recording recording = new Recording()) {
            for (String event : List.of("hotswap.Swap", "hotswap.Push", "hotswap.Pull")) {
                recording.enable(event).withThreshold(Duration.ZERO);
            }
            recording.start();
            Map<String, String> env = Map.of("HOTSWAP_SOCKET", "s.sock");
            Fixtures.Result push = Fixtures.cli(d, env, null, "cp", "new.sqlite3", "p.sqlite3");
            assertEquals(0, push.exit(), push.toString());
            Fixtures.Result pull = Fixtures.cli(d, env, null, "cp", "p.sqlite3", "backup.sqlite3");
            assertEquals(0, pull.exit(), pull.toString());
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().startsWith("hotswap."))
                .sorted(java.util.Comparator.comparing(RecordedEvent::getStartTime)).toList();
        assertEquals(List.of("hotswap.Push", "hotswap.Swap", "hotswap.Pull"), events.stream().map(e -> e.getEventType().getName()).toList());
        RecordedEvent pushEvent = events.get(0);
        RecordedEvent swap = events.get(1);
        RecordedEvent pullEvent = events.get(2);
        for (RecordedEvent e : events) {
            assertEquals("p.sqlite3", e.getString("database"), e.toString());
            assertEquals(db.toRealPath().toString(), e.getString("path"), e.toString());
        }
        assertEquals(Files.size(pushed), swap.getLong("bytes"));
        assertEquals("file", swap.getString("source"));
        assertEquals(0, swap.getInt("waited"));
        assertFalse(swap.getDuration().isNegative() || swap.getDuration().isZero(), swap.toString());
        // The pause lies inside the push.
        assertFalse(swap.getStartTime().isBefore(pushEvent.getStartTime()), swap + "\n" + pushEvent);
        assertFalse(swap.getEndTime().isAfter(pushEvent.getEndTime()), swap + "\n" + pushEvent);
        assertEquals(Files.size(pushed), pushEvent.getLong("bytes"));
        assertEquals("file", pushEvent.getString("source"));
        assertTrue(pushEvent.getDouble("pauseMillis") > 0, pushEvent.toString());
        assertEquals(Files.size(d.resolve("backup.sqlite3")), pullEvent.getLong("bytes"));
        assertTrue(Set.of("linked", "copied", "streamed").contains(pullEvent.getString("handover")), pullEvent.toString());
    }

    /**
     * A swap that replaced the database and then failed (an afterSwap that throws) did change what
     * the app serves: status, the MXBean and a recording count it as a swap, as they count one that
     * ended well, and the client is told the database was replaced.
     */
    @Test
    void aSwapThatReplacedTheDatabaseButEndedInAnErrorIsStillCountedAndRecorded() throws Exception {
        Path d = scope.dir();
        Path db = Fixtures.itemsDb(d.resolve("p.sqlite3"), "old");
        Hotswap h = started(Hotswap.builder().database(db).socket(d.resolve("s.sock")));
        h.database(db).addSwapListener(new SwapListener() {
            @Override
            public void beforeSwap(ManagedDatabase database) {
            }

            @Override
            public void afterSwap(ManagedDatabase database, boolean replaced) {
                throw new IllegalStateException("the app's cache would not refresh");
            }
        });
        Path pushed = Fixtures.itemsDb(d.resolve("new.sqlite3"), "new");
        Path file = d.resolve("recording.jfr");
        try (Recording recording = new Recording()) {
            for (String event : List.of("hotswap.Swap", "hotswap.Push")) {
                recording.enable(event).withThreshold(Duration.ZERO);
            }
            recording.start();
            Fixtures.Result push = Fixtures.cli(d, Map.of("HOTSWAP_SOCKET", "s.sock"), null, "cp", "new.sqlite3", "p.sqlite3");
            assertEquals(1, push.exit(), push.toString());
            assertTrue(push.stderr().contains("the database was replaced, but an after-swap listener failed"), push.toString());
            recording.stop();
            recording.dump(file);
        }
        assertEquals(List.of("new"), Fixtures.query(db, "SELECT name FROM items"), "the swap went through");
        DatabaseMXBean bean = JMX.newMXBeanProxy(MBEANS, database("p.sqlite3", d.resolve("s.sock")), DatabaseMXBean.class);
        assertEquals(1, bean.getSwapCount(), "a swap that replaced the database is counted");
        assertEquals(Files.size(pushed), bean.getLastSwapBytes());
        assertEquals("file", bean.getLastSwapSource());
        List<String> recorded = RecordingFile.readAllEvents(file).stream().map(e -> e.getEventType().getName())
                .filter(n -> n.startsWith("hotswap.")).sorted().toList();
        assertEquals(List.of("hotswap.Push", "hotswap.Swap"), recorded);
    }
}
