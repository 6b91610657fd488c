package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Delta transfers at their edges: found by the adversarial review of the delta transfer. */
class DeltaReviewTest {
    Path dir;
    Path client;

    @BeforeEach
    void setUp() throws Exception {
        dir = Fixtures.tempDir();
        client = Fixtures.tempDir();
    }

    @AfterEach
    void tearDown() {
        Fixtures.deleteTree(dir);
        Fixtures.deleteTree(client);
    }

    @Test
    void aDeltaPushToADatabaseThatDoesNotExistYetLandsAsAWholePushWouldAndCreatesNothingFirst() throws Exception {
        Path live = Files.createDirectory(dir.resolve("db")).resolve("live.sqlite3");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "first");
        try (Hotswap hotswap = Hotswap.builder().socket(dir.resolve("hs.sock")).database(live).build()) {
            hotswap.start();
            Map<String, String> env = Map.of("HOTSWAP_SOCKET", hotswap.socket().toString());

            Fixtures.Result r = Fixtures.cli(client, env, null, "cp", "--delta", "new.sqlite3", live.toString());

            assertEquals(0, r.exit(), r.toString());
            assertEquals(List.of("first"), Fixtures.query(live, "SELECT name FROM items"));
            assertTrue(r.stderr().contains("does not exist yet; copying the whole file"), r.stderr());
            assertEquals(List.of(), Fixtures.leftovers(live.getParent()));
        }
    }

    @Test
    void aRejectedDeltaPushToADatabaseThatDoesNotExistYetLeavesItAbsent() throws Exception {
        Path live = Files.createDirectory(dir.resolve("db")).resolve("live.sqlite3");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "first");
        try (Hotswap hotswap = Hotswap.builder().socket(dir.resolve("hs.sock")).database(live).build()) {
            hotswap.start();
            Map<String, String> env = Map.of("HOTSWAP_SOCKET", hotswap.socket().toString());
            // A damaged file of SQLite pages: the app's checks refuse it.
            Path bad = client.resolve("bad.sqlite3");
            byte[] bytes = Files.readAllBytes(client.resolve("new.sqlite3"));
            java.util.Arrays.fill(bytes, 4096, bytes.length, (byte) 0x5a);
            Files.write(bad, bytes);

            Fixtures.Result r = Fixtures.cli(client, env, null, "cp", "--delta", "bad.sqlite3", live.toString());

            assertEquals(1, r.exit(), r.toString());
            assertFalse(Files.exists(live), "a refused push created the live database: " + r);
            assertEquals(List.of(), Fixtures.leftovers(live.getParent()));
        }
    }

    @Test
    void aRemoteDeltaPullStoppedWithSigtermBeforeTheAppAnswersRemovesItsCopy() throws Exception {
        try (RemoteSide remote = new RemoteSide("").start()) {
            Fixtures.itemsDb(remote.local.resolve("copy.sqlite3"), "an older copy");
            // A link that takes a while to answer, as ssh does while it logs in and the app there takes its snapshot.
            Path slow = RemoteSide.script(remote.root.resolve("slow-ssh"), "#!/bin/sh\nsleep 30\nexec '" + remote.fakeSsh + "' \"$@\"\n");
            ProcessBuilder pb = new ProcessBuilder(Fixtures.java(), "-jar", Fixtures.jar().toString(), "cp", "--rsh", slow.toString(),
                    RemoteSide.HOST + ":db/production.sqlite3", "copy.sqlite3")
                    .directory(remote.local.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().remove("HOTSWAP_SOCKET");
            pb.environment().putAll(remote.env());
            Process cli = pb.start();
            List<ProcessHandle> children = List.of();
            try {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (Fixtures.leftovers(remote.local).isEmpty()) {
                    assertTrue(System.nanoTime() < deadline, "the client never started its copy of the destination");
                    Thread.sleep(5);
                }
                Thread.sleep(300);
                children = cli.descendants().toList();
                cli.destroy(); // SIGTERM, as Ctrl-C or a service manager would stop it
                assertTrue(cli.waitFor(20, java.util.concurrent.TimeUnit.SECONDS));
            } finally {
                cli.destroyForcibly();
                children.forEach(ProcessHandle::destroyForcibly); // the sleeping transport
            }
            assertEquals(List.of(), Fixtures.leftovers(remote.local), "a stopped pull leaves no copy beside its destination");
            assertEquals(List.of("an older copy"), Fixtures.query(remote.local.resolve("copy.sqlite3"), "SELECT name FROM items"));
        }
    }

    @Test
    void aDeltaPushWhoseSnapshotCannotFitBesideTheLiveDatabaseGoesWholeAndNeverFillsTheDisk() throws Exception {
        Path small = Files.createDirectory(dir.resolve("small"));
        Fixtures.mountTmpfs(small, "2m");
        try {
            Path live = Fixtures.createDb(small.resolve("live.sqlite3"),
                    "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) "
                            + "INSERT INTO items(name) SELECT hex(randomblob(500)) FROM n");
            Fixtures.createDb(client.resolve("new.sqlite3"), "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                    "INSERT INTO items(name) VALUES ('small and new')");
            long free = Files.getFileStore(small).getUsableSpace();
            assertTrue(Files.size(live) > free && Files.size(client.resolve("new.sqlite3")) < free,
                    "the test needs a live database larger than the space left, and a pushed one smaller: " + Files.size(live) + ", " + free);
            try (Hotswap hotswap = Hotswap.builder().socket(dir.resolve("hs.sock")).database(live).build()) {
                hotswap.start();

                Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", hotswap.socket().toString()), null,
                        "cp", "--delta", "new.sqlite3", live.toString());

                // The snapshot would have filled the disk under the app's own writes; the whole file fits.
                assertEquals(0, r.exit(), r.toString());
                assertTrue(r.stderr().contains("no room beside it for a snapshot of " + live), r.stderr());
                assertEquals(List.of("small and new"), Fixtures.query(live, "SELECT name FROM items"));
                assertEquals(List.of(), Fixtures.leftovers(small));
            }
        } finally {
            Fixtures.unmount(small);
        }
    }

    @Test
    void aPullClientClaimingMorePagesThanAnyFileCanHaveIsRefusedAsMalformedAndTheAppServesOn() throws Exception {
        try (RunningApp app = RunningApp.start("a", "b")) {
            byte[] live = Files.readAllBytes(app.db);
            for (int count : new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE - 255, Integer.MAX_VALUE / 16, (1 << 26) + 1}) {
                String said = rawRequest(app, new hotswap.wire.CopyRequest(app.db.toString(), client.resolve("x.sqlite3").toString(),
                        hotswap.wire.CopyRequest.Integrity.FULL, true, 0, -1, false, false, null,
                        new hotswap.wire.CopyRequest.Pages(4096, count), false));
                assertTrue(said.startsWith("ERROR: malformed cp request: malformed delta option: 4096:" + count), count + ": " + said);
            }
            assertEquals(200, app.get("/items").statusCode());
            assertTrue(java.util.Arrays.equals(live, Files.readAllBytes(app.db)));
            assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
        }
    }

    /** Sends {@code request} over a raw connection and returns what the app said on stderr; hangs up should a delta exchange start. */
    private static String rawRequest(RunningApp app, hotswap.wire.CopyRequest request) throws Exception {
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.connect(java.net.UnixDomainSocketAddress.of(app.socket));
            hotswap.wire.Frames frames = new hotswap.wire.Frames(ch);
            hotswap.wire.Protocol.sayHello(frames);
            frames.writeStrings(hotswap.wire.Channel.CONTROL, request.encode());
            hotswap.wire.Protocol.readHello(frames);
            StringBuilder said = new StringBuilder();
            for (hotswap.wire.Frames.Frame f = frames.read(); f != null && f.channel() != hotswap.wire.Channel.EXIT; f = frames.read()) {
                if (f.channel() == hotswap.wire.Channel.STDERR) {
                    said.append(f.text());
                } else if (f.channel() == hotswap.wire.Channel.CONTROL
                        && hotswap.wire.Strings.decode(f.payload()).get(0).equals("delta")) {
                    return said + "(the app started the delta exchange)"; // and hangs up
                }
            }
            return said.toString();
        }
    }

    @Test
    void aDeltaPullOfADatabaseThatGrowsMeanwhileIsNeverRefusedAsMalformed() throws Exception {
        Path live = Files.createDirectory(dir.resolve("db")).resolve("live.sqlite3");
        Fixtures.createDb(live, "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)");
        Fixtures.createDb(client.resolve("copy.sqlite3"), "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)");
        try (Hotswap hotswap = Hotswap.builder().socket(dir.resolve("hs.sock")).database(live).build()) {
            hotswap.start();
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            Thread writer = new Thread(() -> {
                // The app's writes, each a new page or two at the end of the file (rollback journal: straight into it).
                try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + live);
                     java.sql.Statement st = c.createStatement()) {
                    st.execute("PRAGMA busy_timeout = 5000");
                    while (!stop.get()) {
                        st.executeUpdate("INSERT INTO items(name) VALUES (hex(randomblob(3000)))");
                    }
                } catch (java.sql.SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            writer.start();
            try {
                for (int i = 0; i < 15; i++) {
                    Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", hotswap.socket().toString()), null,
                            "cp", "--delta", live.toString(), "copy.sqlite3");
                    assertFalse(r.stderr().contains("does not match source-size"), "pull " + i + ": " + r);
                }
            } finally {
                stop.set(true);
                writer.join();
            }
        }
    }
}
