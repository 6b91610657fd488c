package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.wire.Channel;
import hotswap.wire.FileIds;
import hotswap.wire.Frames;
import hotswap.wire.Protocol;
import hotswap.wire.Strings;
import java.io.ByteArrayOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * How a pulled snapshot reaches the client: the app offers its snapshot file by path, and a client
 * on the same machine links it (a file destination on the same file system), copies it (stdout),
 * or asks for the stream through the socket when the file it finds is not the one offered.
 */
class PullHandoverTest extends AppAndClientTest {
    private LogCapture log;

    /** Where a stand-in app keeps its socket and the files it offers. */
    private Path standInDir;

    @BeforeEach
    void captureLogAndMakeStandInDir() throws Exception {
        log = new LogCapture("hotswap");
        standInDir = Fixtures.tempDir();
    }

    @AfterEach
    void releaseLogAndRemoveStandInDir() {
        log.close();
        Fixtures.deleteTree(standInDir);
    }

    private String pullOutcome() {
        return log.messages().stream().filter(m -> m.startsWith("pull complete: ")).reduce((a, b) -> b).orElse("(no pull logged)");
    }

    @Test
    void aPullToAFileOnTheSameFileSystemLinksTheSnapshotAndGivesItTheLiveDatabasesModeLessTheUmask() throws Exception {
        Files.setPosixFilePermissions(app.db, PosixFilePermissions.fromString("rw-r-----"));
        Fixtures.Result r = cliWithUmask("022", "cp", app.db.toString(), "backup.sqlite3");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("OK\n", r.stderr());
        assertTrue(pullOutcome().endsWith(", linked by the client)"), pullOutcome());
        Path pulled = client.resolve("backup.sqlite3");
        assertEquals(List.of("alpha", "bravo"), Fixtures.query(pulled, "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of("ok"), Fixtures.query(pulled, "PRAGMA integrity_check"));
        // The app made the snapshot 0600; the pulled file has the live database's 0640.
        assertEquals("rw-r-----", modeOf(pulled));
        assertEquals(1, Files.getAttribute(pulled, "unix:nlink"), "the app's name for the snapshot is gone");
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
        assertEquals(List.of(), Fixtures.leftovers(client));

        Fixtures.Result strict = cliWithUmask("077", "cp", app.db.toString(), "strict.sqlite3");
        assertEquals(0, strict.exit(), strict.toString());
        assertTrue(pullOutcome().endsWith(", linked by the client)"), pullOutcome());
        assertEquals("rw-------", modeOf(client.resolve("strict.sqlite3")), "the umask takes bits off");
    }

    @Test
    void aPulledFileIsRenamedIntoPlaceAndThenItsDirectoryIsSynced() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/strace")), "needs /usr/bin/strace");
        // -ff: one file per thread, so a call another thread interrupts is never split over two lines.
        Path trace = client.resolve("trace");
        List<String> command = new ArrayList<>(List.of("/usr/bin/strace", "-ff", "-o", trace.toString(),
                "-e", "trace=rename,renameat,renameat2,open,openat,fsync,fdatasync",
                Fixtures.java(), "-jar", Fixtures.jar().toString(), "cp", app.db.toString(), "backup.sqlite3"));
        Fixtures.Result r = Fixtures.run(client, app.env(), null, command);
        Assumptions.assumeFalse(r.stderr().contains("PTRACE_") || r.stderr().startsWith("strace:"), "strace cannot trace here: " + r);
        assertEquals(0, r.exit(), r.toString());
        String destination = client.toRealPath().resolve("backup.sqlite3").toString();
        java.util.regex.Pattern renamed = java.util.regex.Pattern.compile(
                ".*rename[a-z0-9]*\\(.*\"" + java.util.regex.Pattern.quote(destination) + "\"\\)\\s+= 0");
        java.util.regex.Pattern openDir = java.util.regex.Pattern.compile(
                ".*open(at)?\\((AT_FDCWD, )?\"" + java.util.regex.Pattern.quote(client.toRealPath().toString()) + "\", O_RDONLY.*\\)\\s+= (\\d+)");
        List<String> calls = List.of();
        try (Stream<Path> files = Files.list(client)) {
            for (Path file : files.filter(p -> p.getFileName().toString().startsWith("trace.")).toList()) {
                List<String> thread = Files.readAllLines(file);
                if (thread.stream().anyMatch(c -> renamed.matcher(c).matches())) {
                    calls = thread;
                }
            }
        }
        int rename = -1;
        for (int i = 0; i < calls.size(); i++) {
            if (renamed.matcher(calls.get(i)).matches()) {
                rename = i;
            }
        }
        assertTrue(rename >= 0, "no rename onto " + destination + " in the trace");
        String fd = null;
        boolean synced = false;
        for (String call : calls.subList(rename + 1, calls.size())) {
            java.util.regex.Matcher m = openDir.matcher(call);
            if (m.matches()) {
                fd = m.group(3);
            } else if (fd != null && call.matches("f(data)?sync\\(" + fd + "\\).*")) {
                synced = true;
            }
        }
        assertTrue(synced, "the directory was not synced after the rename:\n" + String.join("\n", calls.subList(rename, calls.size())));
    }

    @Test
    void aPulledOwnerOnlyDatabaseStaysOwnerOnly() throws Exception {
        Files.setPosixFilePermissions(app.db, PosixFilePermissions.fromString("rw-------"));
        Fixtures.Result r = cliWithUmask("022", "cp", app.db.toString(), "backup.sqlite3");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("rw-------", modeOf(client.resolve("backup.sqlite3")));
    }

    @Test
    void aPullToAFileOnAnotherFileSystemIsCopiedFromTheSnapshotAndRenamedIntoPlace() throws Exception {
        Path shm = Path.of("/dev/shm");
        Assumptions.assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm)
                        && !Files.getFileStore(shm).equals(Files.getFileStore(app.db.getParent())),
                "needs /dev/shm as a writable file system other than the one the app's database is on");
        byte[] expected = pullToFile();
        Path elsewhere = Files.createTempDirectory(shm, "hs-pull-");
        try {
            Files.setPosixFilePermissions(app.db, PosixFilePermissions.fromString("rw-r--r--"));
            Fixtures.Result r = cliWithUmask("022", "cp", app.db.toString(), elsewhere.resolve("backup.sqlite3").toString());
            assertEquals(0, r.exit(), r.toString());
            assertEquals("OK\n", r.stderr());
            // Not linkable, so copied from the finished snapshot.
            assertTrue(pullOutcome().endsWith(", copied by the client)"), pullOutcome());
            assertArrayEquals(expected, Files.readAllBytes(elsewhere.resolve("backup.sqlite3")));
            assertEquals(modeOf(app.db), modeOf(elsewhere.resolve("backup.sqlite3")), "the live database's mode (rw-r--r-- under umask 022)");
            try (Stream<Path> left = Files.list(elsewhere)) {
                assertEquals(List.of("backup.sqlite3"), left.map(p -> p.getFileName().toString()).toList(), "no temp file left");
            }
            assertEquals(List.of("ok"), Fixtures.query(elsewhere.resolve("backup.sqlite3"), "PRAGMA integrity_check"));
            assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
        } finally {
            Fixtures.deleteTree(elsewhere);
        }
    }

    @Test
    void aPullToStdoutRedirectedToAFileCopiesTheSnapshotAfterWhatTheFileAlreadyHeld() throws Exception {
        byte[] expected = pullToFile();
        Path out = client.resolve("out.bin");
        // The shell writes a header first, so the snapshot must land at the file's offset, not at 0.
        Fixtures.Result r = shell("{ printf HEAD; " + CLI + "; } > out.bin");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(pullOutcome().endsWith(", copied by the client)"), pullOutcome());
        assertArrayEquals(concat("HEAD".getBytes(), expected), Files.readAllBytes(out));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    @Test
    void aPullToStdoutRedirectedToANewFileHoldsExactlyTheSnapshot() throws Exception {
        byte[] expected = pullToFile();
        Fixtures.Result r = shell(CLI + " > out.bin");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("", r.stderr());
        assertTrue(pullOutcome().endsWith(", copied by the client)"), pullOutcome());
        assertArrayEquals(expected, Files.readAllBytes(client.resolve("out.bin")));
    }

    @Test
    void aPullToStdoutAppendedToAFileLandsAtItsEnd() throws Exception {
        byte[] expected = pullToFile();
        Path out = client.resolve("out.bin");
        Files.write(out, "EARLIER".getBytes());
        Fixtures.Result r = shell(CLI + " >> out.bin");
        assertEquals(0, r.exit(), r.toString());
        assertArrayEquals(concat("EARLIER".getBytes(), expected), Files.readAllBytes(out));
    }

    @Test
    void aPullToStdoutThroughAPipeIsCopiedInOrder() throws Exception {
        byte[] expected = pullToFile();
        Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), "-");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(pullOutcome().endsWith(", copied by the client)"), pullOutcome());
        assertArrayEquals(expected, r.stdout());
    }

    /** Runs the CLI in the client directory under {@code umask}, pointed at the app. */
    private Fixtures.Result cliWithUmask(String umask, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("sh", "-c", "umask " + umask + "; exec \"$0\" \"$@\"",
                Fixtures.java(), "-jar", Fixtures.jar().toString()));
        command.addAll(List.of(args));
        return Fixtures.run(client, app.env(), null, command);
    }

    private static String modeOf(Path file) throws java.io.IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS));
    }

    /** Pulls to a file and returns its bytes, the reference for the other ways. */
    private byte[] pullToFile() throws Exception {
        Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), "reference.sqlite3");
        assertEquals(0, r.exit(), r.toString());
        return Files.readAllBytes(client.resolve("reference.sqlite3"));
    }

    /** A pull to stdout in a {@link #shell} script. */
    private static final String CLI = "\"$0\" -jar \"$1\" cp \"$2\" -";

    /** Runs {@code sh -c SCRIPT} in the client directory with $0 = java, $1 = the jar, $2 = the live db. */
    private Fixtures.Result shell(String script) throws Exception {
        return Fixtures.run(client, app.env(), null, List.of("sh", "-c", script,
                Fixtures.java(), Fixtures.jar().toString(), app.db.toString()));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }

    // ---- the client's side, against a stand-in for the app that speaks the protocol ----

    @Test
    void anOfferTheClientCannotVerifyIsStreamedAndTheOfferedFileIsLeftAlone() throws Exception {
        // Named like a snapshot, of this user, of the offered size, but the offer names another inode:
        // not the file the app means. Only the identity tells them apart.
        byte[] streamed = "SQLite format 3\0 streamed bytes".getBytes();
        byte[] other = "SQLite format 3\0 another file!!".getBytes();
        assertEquals(streamed.length, other.length);
        Path offered = Files.write(standInDir.resolve(".production.sqlite3.hotswap-0123456789abcdef.pull"), other);
        Path live = Files.write(standInDir.resolve("production.sqlite3"), new byte[0]); // the client checks the source exists
        for (String destination : List.of("pulled.sqlite3", "-")) {
            Files.deleteIfExists(standInDir.resolve("stand-in.sock")); // the last stand-in's
            Fixtures.Result r = pullExpectingTheStream(StandIn.offering(standInDir, offered.toString(), "1:2", streamed), live, destination);
            assertArrayEquals(streamed, destination.equals("-") ? r.stdout() : Files.readAllBytes(client.resolve(destination)));
            assertArrayEquals(other, Files.readAllBytes(offered));
        }
    }

    /** How a stand-in describes a symbolic link it offers as its snapshot: whose id, and whose size. */
    enum Disguise { LINK_ID_VICTIM_SIZE, LINK_ID_LINK_SIZE, VICTIM_ID_VICTIM_SIZE }

    static Stream<Arguments> symlinkOffers() {
        return Stream.of(Disguise.values()).flatMap(d -> Stream.of(Arguments.of(d, "pulled.sqlite3"), Arguments.of(d, "-")));
    }

    @ParameterizedTest(name = "{0} to {1}")
    @MethodSource("symlinkOffers")
    void aSymbolicLinkOfferedAsTheSnapshotIsNeverFollowedAndItsTargetIsLeftAlone(Disguise disguise, String destination) throws Exception {
        // A file of the client's own user, which a server that is not the app points at.
        Path victim = Fixtures.itemsDb(client.resolve("victim.sqlite3"), "mine");
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-r-----"));
        byte[] victimBytes = Files.readAllBytes(victim);
        Path link = Files.createSymbolicLink(standInDir.resolve(".production.sqlite3.hotswap-0123456789abcdef.pull"), victim);
        String id = disguise == Disguise.VICTIM_ID_VICTIM_SIZE ? FileIds.of(victim) : FileIds.of(link);
        long size = disguise == Disguise.LINK_ID_LINK_SIZE
                ? (Long) Files.getAttribute(link, "size", LinkOption.NOFOLLOW_LINKS) : victimBytes.length;
        byte[] streamed = new byte[(int) size];
        streamed[0] = 'S';
        Path live = Files.write(standInDir.resolve("production.sqlite3"), new byte[0]);

        Fixtures.Result r = pullExpectingTheStream(StandIn.offering(standInDir, link.toString(), id, streamed), live, destination);

        assertArrayEquals(victimBytes, Files.readAllBytes(victim), "the victim's bytes changed");
        assertEquals("rw-r-----", modeOf(victim), "the victim's mode changed");
        assertTrue(Files.isSymbolicLink(link), "the offered link was replaced");
        if (destination.equals("-")) {
            assertArrayEquals(streamed, r.stdout());
        } else {
            Path pulled = client.resolve(destination);
            assertTrue(Files.isRegularFile(pulled, LinkOption.NOFOLLOW_LINKS), "the pulled file is a link");
            assertArrayEquals(streamed, Files.readAllBytes(pulled));
        }
        assertEquals(List.of(), Fixtures.leftovers(client));
    }

    @ParameterizedTest
    @ValueSource(strings = {"pulled.sqlite3", "-"})
    void aSnapshotOfAnotherUserIsNotTakenEvenWithTheRightIdAndSize(String destination) throws Exception {
        Fixtures.assumeRoot("give the offered snapshot to another user");
        Path offered = Fixtures.itemsDb(standInDir.resolve(".production.sqlite3.hotswap-0123456789abcdef.pull"), "theirs");
        Files.setPosixFilePermissions(offered, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setOwner(offered, offered.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("65534"));
        byte[] before = Files.readAllBytes(offered);
        Path live = Files.write(standInDir.resolve("production.sqlite3"), new byte[0]);

        Fixtures.Result r = pullExpectingTheStream(StandIn.offering(standInDir, offered.toString(), FileIds.of(offered), before),
                live, destination);

        assertArrayEquals(before, Files.readAllBytes(offered));
        assertEquals("rw-r--r--", modeOf(offered), "the other user's file was chmodded");
        assertEquals(65534, Files.getAttribute(offered, "unix:uid"));
        if (destination.equals("-")) {
            assertArrayEquals(before, r.stdout());
        } else {
            assertEquals(1, Files.getAttribute(offered, "unix:nlink"), "the client linked the other user's file");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"600", "640"})
    void aStreamedPullGetsTheLiveDatabasesModeLessTheUmask(String mode) throws Exception {
        Path live = Files.write(standInDir.resolve("production.sqlite3"), new byte[0]);
        byte[] streamed = "SQLite format 3\0 streamed bytes".getBytes();
        StandIn app = StandIn.start(standInDir, null, "", "", streamed, false, mode);
        List<String> command = new ArrayList<>(List.of("sh", "-c", "umask 022; exec \"$0\" \"$@\"",
                Fixtures.java(), "-jar", Fixtures.jar().toString(), "cp", live.toString(), "pulled.sqlite3"));
        Fixtures.Result r = Fixtures.run(client, Map.of("HOTSWAP_SOCKET", app.socket.toString()), null, command);
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("stream"), app.answer.get(10, TimeUnit.SECONDS));
        assertEquals(mode.equals("600") ? "rw-------" : "rw-r-----", modeOf(client.resolve("pulled.sqlite3")));
    }

    @Test
    void anOfferedPathNoFileCouldHaveIsAskedForAsAStream() throws Exception {
        Path live = Files.write(standInDir.resolve("production.sqlite3"), new byte[0]);
        byte[] streamed = "SQLite format 3\0 streamed bytes".getBytes();
        String path = standInDir + "/a\0b/.production.sqlite3.hotswap-0123456789abcdef.pull";
        Fixtures.Result r = pullExpectingTheStream(StandIn.offering(standInDir, path, "1:2", streamed), live, "-");
        assertArrayEquals(streamed, r.stdout());
    }

    @Test
    void aFileNotNamedLikeASnapshotIsNeverTakenEvenWithTheRightIdAndSize() throws Exception {
        // A confused app offering its live database: the client must not link, copy or shrink it.
        Path live = Fixtures.itemsDb(standInDir.resolve("production.sqlite3"), "keep", "me");
        byte[] before = Files.readAllBytes(live);
        Fixtures.Result r = pullExpectingTheStream(StandIn.offering(standInDir, live.toString(), FileIds.of(live), before), live, "-");
        assertArrayEquals(before, r.stdout());
        assertArrayEquals(before, Files.readAllBytes(live));
    }

    @Test
    void aPullStoppedWithSigtermRemovesWhatItHadWritten() throws Exception {
        // The stand-in streams part of a snapshot and then stalls, as a large pull would midway.
        Path live = Files.write(standInDir.resolve("production.sqlite3"), new byte[0]);
        byte[] part = new byte[1 << 20];
        StandIn app = StandIn.start(standInDir, null, "", "", part, true);
        ProcessBuilder pb = new ProcessBuilder(Fixtures.java(), "-jar", Fixtures.jar().toString(), "cp", live.toString(), "pulled.sqlite3")
                .directory(client.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("HOTSWAP_SOCKET", app.socket.toString());
        Process cli = pb.start();
        try {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (temps().stream().noneMatch(p -> sizeOf(p) == part.length)) {
                assertTrue(System.nanoTime() < deadline, "the client never wrote the streamed part: " + temps());
                Thread.sleep(5);
            }
            cli.destroy(); // SIGTERM, as Ctrl-C or a service manager would stop it
            assertTrue(cli.waitFor(20, TimeUnit.SECONDS));
        } finally {
            cli.destroyForcibly();
        }
        assertEquals(List.of(), temps(), "a stopped pull leaves no temp file beside its destination");
        assertTrue(Files.notExists(client.resolve("pulled.sqlite3")));
    }

    private List<Path> temps() throws java.io.IOException {
        try (Stream<Path> files = Files.list(client)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".part")).toList();
        }
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    /** Pulls {@code live} from the stand-in into {@code destination} with the real CLI, which must succeed by asking for the stream. */
    private Fixtures.Result pullExpectingTheStream(StandIn app, Path live, String destination) throws Exception {
        Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", app.socket.toString()), null, "cp", live.toString(), destination);
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("stream"), app.answer.get(10, TimeUnit.SECONDS));
        return r;
    }

    /** One session of a stand-in app: offers a file for a pull, records the answer, streams if asked. */
    private static final class StandIn {
        final Path socket;
        final CompletableFuture<List<String>> answer = new CompletableFuture<>();

        private StandIn(Path socket) {
            this.socket = socket;
        }

        static StandIn offering(Path dir, String path, String id, byte[] bytes) throws Exception {
            return start(dir, null, path, id, bytes, false);
        }

        static StandIn start(Path dir, Prelude prelude, String path, String id, byte[] bytes, boolean stall) throws Exception {
            return start(dir, prelude, path, id, bytes, stall, "600");
        }

        interface Prelude {
            void run(Frames frames) throws Exception;
        }

        /**
         * With {@code stall}, a stream of {@code bytes} stops there and the session waits for the client to hang up;
         * {@code mode} is the live database's permission bits the offer carries, in octal.
         */
        static StandIn start(Path dir, Prelude prelude, String path, String id, byte[] bytes, boolean stall, String mode)
                throws Exception {
            StandIn standIn = new StandIn(dir.resolve("stand-in.sock"));
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(standIn.socket));
            Thread t = new Thread(() -> {
                try (server; SocketChannel ch = server.accept()) {
                    Frames frames = new Frames(ch);
                    Protocol.readHello(frames);
                    Protocol.sayHello(frames);
                    frames.read(); // the cp request
                    if (prelude != null) {
                        prelude.run(frames);
                    }
                    frames.writeStrings(Channel.CONTROL, List.of("pull", Integer.toString(bytes.length), path, id, mode));
                    List<String> reply = Strings.decode(frames.read().payload());
                    standIn.answer.complete(new ArrayList<>(reply));
                    if (reply.equals(List.of("stream"))) {
                        frames.write(Channel.DATA_OUT, ByteBuffer.wrap(bytes));
                        if (stall) {
                            while (frames.read() != null) {
                                // until the client hangs up
                            }
                            return;
                        }
                        frames.writeEnd(Channel.DATA_OUT);
                    }
                    frames.writeExit(0);
                    frames.read(); // until the client hangs up
                } catch (Exception e) {
                    standIn.answer.completeExceptionally(e);
                }
            }, "stand-in-app");
            t.setDaemon(true);
            t.start();
            return standIn;
        }
    }
}
