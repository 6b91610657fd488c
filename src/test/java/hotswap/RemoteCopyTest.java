package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.wire.Channel;
import hotswap.wire.CopyRequest;
import hotswap.wire.Frames;
import hotswap.wire.Protocol;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Remote copies ({@code HOST:PATH}) end to end with real processes: the client, a stand-in
 * transport ({@link RemoteSide}), {@code hotswap relay} started by it, and the app.
 */
class RemoteCopyTest {
    private static final String ON_HOST = "ERROR: on " + RemoteSide.HOST + ": ";
    RemoteSide remote;

    @AfterEach
    void tearDown() {
        if (remote != null) {
            remote.close();
        }
    }

    private Path newDb(String name, String... items) throws Exception {
        return Fixtures.itemsDb(remote.local.resolve(name), items);
    }

    private static String target(String path) {
        return RemoteSide.HOST + ":" + path;
    }

    @Test
    void pushFromAFileReplacesTheRemoteDatabaseResolvedFromTheLoginDirectory() throws Exception {
        remote = new RemoteSide("").start();
        newDb("new.sqlite3", "fresh");
        Fixtures.Result r = remote.cp(null, "new.sqlite3", target("db/production.sqlite3"));
        assertEquals(0, r.exit(), r.toString());
        assertEquals("OK\n", r.out(), r.toString());
        assertEquals(List.of("fresh"), remote.items());
        assertEquals(List.of(), Fixtures.leftovers(remote.db.getParent()));
    }

    /**
     * {@code HOST:~/app/db/production.sqlite3}, as one writes it for scp (the README's "as with scp"):
     * the {@code ~} is the remote home, whatever --remote-dir is; it was taken for a directory named {@code ~},
     * and a push said to create it (mkdir -p .../~/app/db).
     */
    @Test
    void aRemotePathStartingWithTildeIsInTheRemoteHomeAsWithScp() throws Exception {
        remote = new RemoteSide("app").start();
        newDb("new.sqlite3", "home");
        Fixtures.Result push = remote.cp(null, "new.sqlite3", target("~/app/db/production.sqlite3"), "--remote-dir", "app");
        assertEquals(0, push.exit(), push.toString());
        assertEquals(List.of("home"), remote.items());
        Fixtures.Result pull = remote.cp(null, target("~/app/db/production.sqlite3"), "back.sqlite3", "--remote-dir", "app");
        assertEquals(0, pull.exit(), pull.toString());
        assertEquals(List.of("home"), Fixtures.query(remote.local.resolve("back.sqlite3"), "SELECT name FROM items"));
        assertFalse(Files.exists(remote.home.resolve("~")));

        // ~USER/ as scp reads it: this user's own name is the same home; another's is refused, with nothing sent.
        String me = System.getProperty("user.name");
        newDb("newer.sqlite3", "mine");
        Fixtures.Result own = remote.cp(null, "newer.sqlite3", target("~" + me + "/app/db/production.sqlite3"), "--remote-dir", "app");
        assertEquals(0, own.exit(), own.toString());
        assertEquals(List.of("mine"), remote.items());
        Fixtures.Result other = remote.cp(null, "new.sqlite3", target("~nobody-else/app/db/production.sqlite3"), "--remote-dir", "app");
        assertEquals(1, other.exit(), other.toString());
        assertEquals(ON_HOST + "~nobody-else names the home of user nobody-else, and hotswap reaches only an app of its own user ("
                + me + "); nothing changed. Name the path from your own home (~/...) or from --remote-dir (for a file named "
                + "~nobody-else there, write ./~nobody-else/app/db/production.sqlite3)\n", other.stderr());
        assertEquals(List.of("mine"), remote.items());
        assertFalse(Files.exists(remote.home.resolve("app/~nobody-else")));
    }

    /**
     * {@code user@[ADDRESS]:PATH}, as scp takes an IPv6 address: the transport gets
     * {@code user@ADDRESS}, and errors name the host as typed. Read up to its first colon, the
     * host was {@code user@[}.
     */
    @Test
    void anIpv6AddressInBracketsNamesTheHostForCpAndStatus() throws Exception {
        remote = new RemoteSide("app").start();
        newDb("new.sqlite3", "six");
        Map<String, String> env = remote.env();
        env.put("FAKE_HOST", "me@::1");
        String host = "me@[::1]";
        List<String> rsh = List.of("--rsh", remote.fakeSsh.toString(), "--remote-dir", "app");
        Fixtures.Result push = Fixtures.cli(remote.local, env, null, cat(List.of("cp", "new.sqlite3", host + ":db/production.sqlite3"), rsh));
        assertEquals(0, push.exit(), push.toString());
        assertEquals(List.of("six"), remote.items());
        Fixtures.Result pull = Fixtures.cli(remote.local, env, null, cat(List.of("cp", host + ":db/production.sqlite3", "back.sqlite3"), rsh));
        assertEquals(0, pull.exit(), pull.toString());
        assertEquals(List.of("six"), Fixtures.query(remote.local.resolve("back.sqlite3"), "SELECT name FROM items"));
        Fixtures.Result status = Fixtures.cli(remote.local, env, null, cat(List.of("status", host + ":"), rsh));
        assertEquals(0, status.exit(), status.toString());
        Fixtures.Result missing = Fixtures.cli(remote.local, env, null, cat(List.of("cp", host + ":db/missing.sqlite3", "x.sqlite3"), rsh));
        assertEquals(1, missing.exit(), missing.toString());
        assertTrue(missing.stderr().startsWith("ERROR: on " + host + ": cannot read db/missing.sqlite3"), missing.toString());
    }

    private static String[] cat(List<String> a, List<String> b) {
        List<String> all = new java.util.ArrayList<>(a);
        all.addAll(b);
        return all.toArray(String[]::new);
    }

    @Test
    void aRemoteDatabaseMayBeNamedAsALocalOneIs() throws Exception {
        remote = new RemoteSide("app").start();
        newDb("new.sqlite3", "by name");
        // Nothing is at app/production.sqlite3 (the database is in app/db): the relay passes the word on as a name.
        Fixtures.Result push = remote.cp(null, "new.sqlite3", target("production.sqlite3"), "--remote-dir", "app");
        assertEquals(0, push.exit(), push.toString());
        assertEquals(List.of("by name"), remote.items());
        Fixtures.Result pull = remote.cp(null, target("database"), "back.sqlite3", "--remote-dir", "app");
        assertEquals(0, pull.exit(), pull.toString());
        assertEquals(List.of("by name"), Fixtures.query(remote.local.resolve("back.sqlite3"), "SELECT name FROM items"));
        Fixtures.Result unknown = remote.cp(null, target("nosuch"), "x.sqlite3", "--remote-dir", "app");
        assertEquals(1, unknown.exit(), unknown.toString());
        assertTrue(unknown.stderr().startsWith(ON_HOST + "cannot read nosuch: no such file, and no managed database has that "
                + "name; nothing changed. Managed: production.sqlite3 (" + remote.db.toRealPath() + ")"), unknown.stderr());
        assertFalse(Files.exists(remote.local.resolve("x.sqlite3")));
    }

    @Test
    void pushFromStdinReplacesTheRemoteDatabase() throws Exception {
        remote = new RemoteSide("app").start();
        byte[] bytes = Files.readAllBytes(newDb("new.sqlite3", "piped"));
        Fixtures.Result r = remote.cp(bytes, "-", target("db/production.sqlite3"), "--remote-dir", "app");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("piped"), remote.items());
    }

    @Test
    void pullToAFileStreamsEvenWhenTheRemoteSnapshotIsVisibleHereAndKeepsTheLocalModeRules() throws Exception {
        remote = new RemoteSide("app").start();
        try (LogCapture log = new LogCapture("hotswap.Pull")) {
            Fixtures.Result r = remote.cp(null, target("db/production.sqlite3"), "backup.sqlite3", "--remote-dir", "app");
            assertEquals(0, r.exit(), r.toString());
            assertEquals("OK\n", r.stderr(), r.toString());
            // The "remote" app runs on this machine, so a local pull would link its snapshot; a remote one must not.
            assertTrue(log.messages().stream().anyMatch(m -> m.startsWith("pull complete") && m.endsWith("streamed)")), log.dump());
        }
        Path backup = remote.local.resolve("backup.sqlite3");
        assertEquals(List.of("old"), Fixtures.query(backup, "SELECT name FROM items"));
        // The live database is rw-r-----; the umask of the test's child process takes nothing from it or adds write bits.
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(backup)));
        assertEquals(List.of(), Fixtures.leftovers(remote.local));
    }

    @Test
    void pullToAFileInADirectoryTakesTheRemoteFileName() throws Exception {
        remote = new RemoteSide("app").start();
        Files.createDirectory(remote.local.resolve("backups"));
        Fixtures.Result r = remote.cp(null, target("db/production.sqlite3"), "backups", "--remote-dir", "app");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("old"), Fixtures.query(remote.local.resolve("backups/production.sqlite3"), "SELECT name FROM items"));
    }

    @Test
    void aPullOverALocalFileWithAStaleWalBesideItIsRefusedAsALocalPullIs() throws Exception {
        remote = new RemoteSide("app").start();
        Path backup = Fixtures.itemsDb(remote.local.resolve("backup.sqlite3"), "mine");
        Files.write(remote.local.resolve("backup.sqlite3-wal"), new byte[] {1, 2, 3});
        byte[] before = Files.readAllBytes(backup);
        Fixtures.Result r = remote.cp(null, target("db/production.sqlite3"), "backup.sqlite3", "--remote-dir", "app");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("backup.sqlite3-wal is beside"), r.toString());
        assertArrayEquals(before, Files.readAllBytes(backup));
    }

    @Test
    void pullToStdoutWritesOnlyTheDatabase() throws Exception {
        remote = new RemoteSide("app").start();
        Fixtures.Result r = remote.cp(null, target("db/production.sqlite3"), "-", "--remote-dir", "app");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("", r.stderr(), r.toString());
        Path copy = Files.write(remote.local.resolve("copy.sqlite3"), r.stdout());
        assertEquals(List.of("old"), Fixtures.query(copy, "SELECT name FROM items"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sh", "fish", "tcsh"})
    void remoteDirAndRemoteHotswapWithShellCharactersAreTakenLiterallyByEveryLoginShell(String shell) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin", shell)) || Files.isExecutable(Path.of("/bin", shell)),
                shell + " is not installed (.ci/run installs it)");
        // Short enough for the app's socket path under it (a Unix socket address holds 107 bytes). Each shell
        // reads some of these inside single quotes in its own way: fish the backslashes, tcsh the ! and newline.
        String hostile = "it's \"a\";$(touch pwned)`touch pwned2`\\\\'!x *\nx";
        remote = new RemoteSide(hostile);
        remote.loginShell = shell;
        remote.start();
        Path hotswap = RemoteSide.wrapper(Files.createDirectory(remote.appDir.resolve("my bin's")).resolve("hot swap"));
        newDb("new.sqlite3", "fresh");
        Fixtures.Result r = remote.cp(null, "new.sqlite3", target("db/production.sqlite3"),
                "--remote-dir", hostile, "--remote-hotswap", "my bin's/hot swap");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("fresh"), remote.items());
        assertTrue(Files.isExecutable(hotswap));
        assertNoFileNamed(remote.root, "pwned");
        assertNoFileNamed(remote.root, "pwned2");
        String commands = Files.readString(remote.commandLog);
        assertFalse(commands.contains("pwned") || commands.contains("my bin"), "a user's word crossed the command line: " + commands);
    }

    @Test
    void aCdpathInTheRemoteEnvironmentNeitherLeadsTheRemoteDirElsewhereNorBreaksTheCopy() throws Exception {
        remote = new RemoteSide("app").start();
        // Another app directory of the same name that a CDPATH entry reaches; an rc file that exports
        // CDPATH (".:~/projects" is common) hands it to the remote command, and cd then prints where it went.
        Path elsewhere = Files.createDirectories(remote.root.resolve("elsewhere/app/db"));
        Fixtures.itemsDb(elsewhere.resolve("production.sqlite3"), "elsewhere");
        newDb("new.sqlite3", "fresh");
        for (String cdpath : List.of(".:" + remote.root.resolve("elsewhere"), remote.root.resolve("elsewhere") + ":")) {
            Path ssh = RemoteSide.script(remote.root.resolve("cdpath-ssh"), """
                    #!/bin/sh
                    cd "$FAKE_HOME" || exit 255
                    exec env -i PATH="$FAKE_PATH" HOME="$FAKE_HOME" CDPATH='%s' sh -c "$2"
                    """.formatted(cdpath));
            Fixtures.Result push = remote.cpWith(List.of("--rsh", ssh.toString()), null,
                    "new.sqlite3", target("db/production.sqlite3"), "--remote-dir", "app");
            assertEquals(0, push.exit(), "CDPATH=" + cdpath + ": " + push);
            assertEquals(List.of("fresh"), remote.items());
            assertEquals(List.of("elsewhere"), Fixtures.query(elsewhere.resolve("production.sqlite3"), "SELECT name FROM items"));
        }
    }

    @Test
    void hostileRemotePathTravelsInsideTheProtocolAndIsResolvedThereThroughSymlinks() throws Exception {
        remote = new RemoteSide("app").start();
        String name = "it's a \"db\"; $(touch pwned)\n.sqlite3";
        Files.createSymbolicLink(remote.db.resolveSibling(name), remote.db.getFileName());
        newDb("new.sqlite3", "fresh");
        Fixtures.Result r = remote.cp(null, "new.sqlite3", target("db/" + name), "--remote-dir", "app");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("fresh"), remote.items());
        assertTrue(Files.isSymbolicLink(remote.db.resolveSibling(name)), "the link is left; its target is replaced");
        assertNoFileNamed(remote.root, "pwned");
        String commands = Files.readString(remote.commandLog);
        assertFalse(commands.contains("db/"), "the remote path crossed the command line: " + commands);
    }

    @Test
    void dotDotAfterARemoteSymlinkMeansWhatTheRemoteKernelSays() throws Exception {
        remote = new RemoteSide("app").start();
        Path inner = Files.createDirectory(remote.db.resolveSibling("inner"));
        Files.createSymbolicLink(remote.appDir.resolve("lnk"), inner);
        // lnk/.. is app/db (the link's target's parent), not app/ as text would have it.
        Fixtures.Result r = remote.cp(null, target("lnk/../production.sqlite3"), "backup.sqlite3", "--remote-dir", "app");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("old"), Fixtures.query(remote.local.resolve("backup.sqlite3"), "SELECT name FROM items"));
    }

    @Test
    void remoteErrorsNameTheHostAndLocalOnesDoNot() throws Exception {
        remote = new RemoteSide("app").start();
        newDb("new.sqlite3", "fresh");
        Fixtures.Result appSays = remote.cp(null, "new.sqlite3", target("db/other.sqlite3"), "--remote-dir", "app");
        assertEquals(1, appSays.exit(), appSays.toString());
        assertTrue(appSays.stderr().startsWith(ON_HOST + "neither "), appSays.toString());

        Fixtures.Result relaySays = remote.cp(null, target("db/missing.sqlite3"), "backup.sqlite3", "--remote-dir", "app");
        assertEquals(1, relaySays.exit(), relaySays.toString());
        assertTrue(relaySays.stderr().startsWith(ON_HOST + "cannot read db/missing.sqlite3: no such file; nothing changed."),
                relaySays.toString());
        assertFalse(Files.exists(remote.local.resolve("backup.sqlite3")));

        Fixtures.Result noApp = remote.cp(null, target(remote.db.toString()), "backup.sqlite3",
                "--remote-hotswap", remote.appDir.resolve("bin/hotswap").toString());
        assertEquals(1, noApp.exit(), noApp.toString());
        assertTrue(noApp.stderr().startsWith(ON_HOST + "no hotswap server at " + remote.home.resolve("tmp/sockets/hotswap.sock")),
                noApp.toString());
        // Without --remote-dir the socket is looked for from the login directory: the likeliest cause, said.
        assertTrue(noApp.stderr().contains(". Here the socket is looked for from " + remote.home + " (--remote-dir, by default the "
                + "login directory): if the app runs in another directory, name that one with --remote-dir"), noApp.toString());

        Files.writeString(remote.local.resolve("new.sqlite3-wal"), "uncheckpointed");
        Fixtures.Result localSays = remote.cp(null, "new.sqlite3", target("db/production.sqlite3"), "--remote-dir", "app");
        assertEquals(1, localSays.exit(), localSays.toString());
        assertTrue(localSays.stderr().contains("\nERROR: new.sqlite3-wal holds committed transactions"), localSays.toString());
        assertFalse(localSays.stderr().contains("on " + RemoteSide.HOST), localSays.toString());
        assertEquals(List.of("old"), remote.items());
    }

    /**
     * The hint that the socket is looked for from the remote directory is for a socket named
     * relative to it. One named absolutely, here inside that very directory, is where it was named:
     * --remote-dir cannot move it, so advising it would send the user after the wrong cause.
     */
    @Test
    void aSocketNamedAbsolutelyIsNeverBlamedOnTheRemoteDirectory() throws Exception {
        remote = new RemoteSide("app"); // no app: nothing listens at its socket
        Fixtures.Result r = Fixtures.cli(remote.local, remote.env(), null, "--socket", remote.socket.toString(),
                "cp", RemoteSide.HOST + ":db/production.sqlite3", "backup.sqlite3", "--remote-dir", "app", "--rsh", remote.fakeSsh.toString());
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith(ON_HOST + "no hotswap server at " + remote.socket + "; nothing was sent. Start the app"),
                r.toString());
        assertFalse(r.stderr().contains("--remote-dir"), r.toString());

        // Named relative to it, the hint stays.
        Fixtures.Result relative = Fixtures.cli(remote.local, remote.env(), null, "--socket", "tmp/sockets/hotswap.sock",
                "cp", RemoteSide.HOST + ":db/production.sqlite3", "backup.sqlite3", "--remote-dir", "app", "--rsh", remote.fakeSsh.toString());
        assertEquals(1, relative.exit(), relative.toString());
        assertTrue(relative.stderr().contains("if the app runs in another directory, name that one with --remote-dir"), relative.toString());
    }

    @Test
    void aTransportThatFailsSaysSoWithItsStderr() throws Exception {
        remote = new RemoteSide("app").start();
        newDb("new.sqlite3", "fresh");
        Fixtures.Result missing = remote.cpWith(List.of("--rsh", "no-such-rsh-command -p 22"), null,
                "new.sqlite3", target("db/production.sqlite3"));
        assertEquals(1, missing.exit(), missing.toString());
        assertTrue(missing.stderr().startsWith("ERROR: cannot start the transport no-such-rsh-command -p 22 app.example: "),
                missing.toString());

        Fixtures.Result unknownHost = remote.cp(null, "new.sqlite3", "elsewhere:db/production.sqlite3");
        assertEquals(1, unknownHost.exit(), unknownHost.toString());
        assertTrue(unknownHost.stderr().startsWith("ERROR: the connection to elsewhere ended before the hotswap there answered;"
                + " nothing changed. The transport " + remote.fakeSsh + " elsewhere exited with status 255; its stderr:\n"
                + "fake-ssh: Could not resolve hostname elsewhere"), unknownHost.toString());

        // A path, not a bare name: a search of PATH meets directories this user may not enter (exit 126, not 127).
        Fixtures.Result noHotswap = remote.cp(null, "new.sqlite3", target("db/production.sqlite3"), "--remote-dir", "app",
                "--remote-hotswap", "bin/no-such-hotswap");
        assertEquals(1, noHotswap.exit(), noHotswap.toString());
        assertTrue(noHotswap.stderr().contains("exited with status 127 (127: a command was not found there"), noHotswap.toString());
        assertTrue(noHotswap.stderr().contains("no-such-hotswap"), noHotswap.toString());

        RemoteSide.script(remote.home.resolve("chatty"), "#!/bin/sh\necho 'Welcome to app.example!'\nexec bin/hotswap \"$@\"\n");
        Fixtures.Result chatty = remote.cp(null, "new.sqlite3", target("db/production.sqlite3"), "--remote-dir", "app",
                "--remote-hotswap", remote.home.resolve("chatty").toString());
        assertEquals(1, chatty.exit(), chatty.toString());
        assertTrue(chatty.stderr().startsWith("ERROR: what came back from app.example is not hotswap's handshake; nothing changed."),
                chatty.toString());

        Fixtures.Result noDir = remote.cp(null, "new.sqlite3", target("db/production.sqlite3"), "--remote-dir", "no such dir");
        assertEquals(1, noDir.exit(), noDir.toString());
        assertTrue(noDir.stderr().contains("no such dir"), noDir.toString());
        assertEquals(List.of("old"), remote.items());
    }

    @Test
    void theFlyFormCarriesTheCommandAsOneQuotedArgument() throws Exception {
        Assumptions.assumeTrue(onPath("python3"), "python3 (the stand-in for fly's word splitting) not found");
        remote = new RemoteSide("fly app's dir").start();
        newDb("new.sqlite3", "flown");
        Fixtures.Result push = remote.cpWith(List.of("--rsh", remote.fakeFly + " ssh console -a {host} -C",
                "--remote-dir", "fly app's dir"), null, "new.sqlite3", target("db/production.sqlite3"));
        assertEquals(0, push.exit(), push.toString());
        assertEquals(List.of("flown"), remote.items());
        Fixtures.Result pull = remote.cpWith(List.of("--rsh", remote.fakeFly + " ssh console -a {host} -C",
                "--remote-dir", "fly app's dir"), null, target("db/production.sqlite3"), "-");
        assertEquals(0, pull.exit(), pull.toString());
        Path copy = Files.write(remote.local.resolve("copy.sqlite3"), pull.stdout());
        assertEquals(List.of("flown"), Fixtures.query(copy, "SELECT name FROM items"));
    }

    @Test
    void aTransportKilledMidPushLeavesTheRemoteDatabaseOld() throws Exception {
        remote = new RemoteSide("app").start();
        // Larger than the client's 1 MiB chunk, so that a first chunk reaches the app while the rest waits.
        byte[] bytes = Files.readAllBytes(Fixtures.itemsDb(remote.local.resolve("new.sqlite3"), "fresh"));
        Fixtures.createDb(remote.local.resolve("new.sqlite3"), "PRAGMA journal_mode=DELETE",
                "INSERT INTO items(name) VALUES (randomblob(3000000))");
        bytes = Files.readAllBytes(remote.local.resolve("new.sqlite3"));
        ProcessBuilder pb = new ProcessBuilder(Fixtures.java(), "-jar", Fixtures.jar().toString(), "cp", "-",
                target("db/production.sqlite3"), "--remote-dir", "app", "--rsh", remote.fakeSshPiped.toString())
                .directory(remote.local.toFile());
        pb.environment().putAll(remote.env());
        Process client = pb.start();
        // Two thirds of the file, then wait until the app is receiving it into its temp file.
        client.getOutputStream().write(bytes, 0, bytes.length * 2 / 3);
        client.getOutputStream().flush();
        remote.awaitPushReceiving();
        // The transport is the stand-in's shell and its two cats; the remote command (sh, the relay) lives on.
        ProcessHandle transport = client.children().findFirst().orElseThrow();
        List<ProcessHandle> cats = transport.descendants()
                .filter(p -> p.info().command().orElse("").endsWith("/cat")).toList();
        assertEquals(2, cats.size(), "the stand-in's cats");
        transport.destroyForcibly();
        cats.forEach(ProcessHandle::destroyForcibly);
        assertTrue(client.waitFor(30, TimeUnit.SECONDS), "the client did not exit");
        String stderr = new String(client.getErrorStream().readAllBytes());
        assertEquals(1, client.exitValue(), stderr);
        // Which end notices first is a race: the client sees its transport end, or the app's refusal still
        // reaches it through the relay, which saw its input end. Either says what the remote database holds.
        assertTrue(stderr.contains("\nERROR: the connection to app.example ended before the command finished; the app there keeps"
                + " the old database or the new one, whole") || stderr.contains("\nERROR: on app.example: ")
                && stderr.contains("; nothing changed"), stderr);
        remote.assertOldDatabaseAndNoTempFileSoon();
    }

    @Test
    void aRemoteAppOfAnotherUserIsRefusedBeforeAnyByteIsSent() throws Exception {
        Fixtures.assumeRoot("run a server as another user");
        Assumptions.assumeTrue(onPath("setpriv"), "setpriv not found");
        remote = new RemoteSide("app");
        for (Path p : List.of(remote.root, remote.home, remote.appDir)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Path sockets = Files.createDirectories(remote.socket.getParent());
        assertEquals(0, new ProcessBuilder("chown", "65534:65534", sockets.toString()).start().waitFor());
        // A server of uid 65534 on the app's socket that counts the bytes it receives.
        Path source = Files.writeString(remote.root.resolve("OtherServer.java"), """
                import java.net.*;
                import java.nio.ByteBuffer;
                import java.nio.channels.*;
                public class OtherServer {
                    public static void main(String[] args) throws Exception {
                        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                        server.bind(UnixDomainSocketAddress.of(args[0]));
                        SocketChannel client = server.accept();
                        long n = 0;
                        ByteBuffer buffer = ByteBuffer.allocate(65536);
                        for (int k; (k = client.read(buffer)) >= 0; buffer.clear()) {
                            n += k;
                        }
                        System.out.println(n);
                    }
                }
                """);
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rw-r--r--"));
        Process other = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Fixtures.java(),
                source.toString(), remote.socket.toString()).redirectError(remote.root.resolve("other.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!Files.exists(remote.socket)) {
                assertTrue(other.isAlive() && System.nanoTime() < deadline, Files.readString(remote.root.resolve("other.log")));
                Thread.sleep(20);
            }
            Fixtures.Result r = remote.cp(null, target("db/production.sqlite3"), "backup.sqlite3", "--remote-dir", "app");
            assertEquals(1, r.exit(), r.toString());
            assertTrue(r.stderr().startsWith(ON_HOST + "the server at " + remote.socket + " runs as user "), r.toString());
            assertTrue(r.stderr().contains("which is not you (" + System.getProperty("user.name") + "); nothing was sent."), r.toString());
            assertTrue(other.waitFor(10, TimeUnit.SECONDS), "the other user's server saw no hang-up");
            assertEquals("0", new String(other.getInputStream().readAllBytes()).strip(), "bytes the other user's server received");
            assertFalse(Files.exists(remote.local.resolve("backup.sqlite3")));
        } finally {
            other.destroyForcibly();
        }
    }

    /**
     * The README's default for --rsh is "$HOTSWAP_RSH, else ssh". An empty HOTSWAP_RSH (export
     * HOTSWAP_RSH=, or a script's HOTSWAP_RSH=$UNSET) counts as unset, as an empty HOTSWAP_SOCKET
     * does: it was a usage error saying --rsh names no command, and status showed cp's usage with it.
     */
    @Test
    void anEmptyHotswapRshMeansSshAsAnUnsetOneDoes() throws Exception {
        remote = new RemoteSide("app").start();
        newDb("new.sqlite3", "over ssh");
        Path bin = Files.createDirectory(remote.root.resolve("path-bin"));
        Files.createSymbolicLink(bin.resolve("ssh"), remote.fakeSsh);
        java.util.Map<String, String> env = new java.util.HashMap<>(remote.env());
        env.put("PATH", bin + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        env.put("HOTSWAP_RSH", "");
        Fixtures.Result push = Fixtures.cli(remote.local, env, null, "cp", "new.sqlite3", target("db/production.sqlite3"),
                "--remote-dir", "app");
        assertEquals(0, push.exit(), push.toString());
        assertEquals(List.of("over ssh"), remote.items());
        Fixtures.Result status = Fixtures.cli(remote.local, env, null, "status", RemoteSide.HOST + ":", "--remote-dir", "app");
        assertEquals(0, status.exit(), status.toString());
    }

    @Test
    void usageErrorsOfRemoteCopiesExitTwo() throws Exception {
        remote = new RemoteSide("app");
        for (List<String> args : List.of(
                List.of("cp", "a:x", "b:y"),
                List.of("cp", "new.sqlite3", "./a:b", "--rsh", "ssh"),
                List.of("cp", "new.sqlite3", "host:"),
                List.of("cp", "new.sqlite3", "host:x", "--remote-dir"),
                List.of("cp", "new.sqlite3", "host:x", "--rsh", "ssh 'unclosed"))) {
            Fixtures.Result r = Fixtures.cli(remote.local, remote.env(), null, args.toArray(String[]::new));
            assertEquals(2, r.exit(), args + "\n" + r);
            assertTrue(r.stderr().startsWith("ERROR: "), r.toString());
        }
        assertFalse(Files.exists(remote.commandLog), "no transport may start on a usage error");
    }

    @Test
    void aRemotePathOrSocketLongerThanTheProtocolCarriesIsAUsageErrorBeforeAnyTransportStarts() throws Exception {
        remote = new RemoteSide("app").start();
        newDb("new.sqlite3", "fresh");
        // Typed relative with ./ it names the live database, but the words are longer than a path may be.
        String longPath = "./".repeat(2100) + "db/production.sqlite3";
        String rsh = remote.fakeSsh.toString();
        for (List<String> args : List.of(
                List.of("cp", "new.sqlite3", target(longPath), "--remote-dir", "app", "--rsh", rsh),
                List.of("cp", target(longPath), "pulled.sqlite3", "--remote-dir", "app", "--rsh", rsh),
                List.of("--socket", longPath, "cp", "new.sqlite3", target("db/production.sqlite3"), "--remote-dir", "app", "--rsh", rsh),
                List.of("--socket", longPath, "status", RemoteSide.HOST + ":", "--remote-dir", "app", "--rsh", rsh))) {
            Fixtures.Result r = Fixtures.cli(remote.local, remote.env(), null, args.toArray(String[]::new));
            String said = r.stderr().substring(0, Math.min(400, r.stderr().length()));
            assertEquals(2, r.exit(), said);
            assertTrue(said.startsWith("ERROR: ") && said.contains("more than the 4096 a path may have; nothing was sent"), said);
        }
        assertFalse(Files.exists(remote.commandLog), "no transport may start on a usage error");
        assertFalse(Files.exists(remote.local.resolve("pulled.sqlite3")));
        assertEquals(List.of("old"), remote.items());
    }

    @Test
    void aRelayRefusesASampleOfPagesThatDoesNotFitItsRequestAndTouchesNothing() throws Exception {
        remote = new RemoteSide("").start();
        byte[] before = Files.readAllBytes(remote.db);
        List<String> push = new CopyRequest("-", "-", CopyRequest.Integrity.FULL, true, 0, 100 * 4096, false, false,
                new CopyRequest.Pages(4096, 100), null, true).encode();
        List<String> pull = new CopyRequest("-", "-", CopyRequest.Integrity.FULL, true, 0, -1, false, false, null, null, true).encode();
        String eight = Base64.getEncoder().encodeToString(new byte[8]);
        Map<String, List<List<String>>> cases = Map.of(
                "the sample holds 8 bytes, not the 256 its 100 pages make", List.of(relay("push", eight), push),
                "the sample of pages is not base64", List.of(relay("push", "!!!"), push),
                "only a push carries a sample of its pages", List.of(relay("pull", eight), pull));
        for (var c : cases.entrySet()) {
            ByteArrayOutputStream in = new ByteArrayOutputStream();
            Frames frames = new Frames(Channels.newChannel(InputStream.nullInputStream()), Channels.newChannel(in));
            Protocol.sayHello(frames);
            for (List<String> message : c.getValue()) {
                frames.writeStrings(Channel.CONTROL, message);
            }
            Fixtures.Result r = Fixtures.cli(remote.home, Map.of(), in.toByteArray(), "relay");
            Frames reply = new Frames(Channels.newChannel(new ByteArrayInputStream(r.stdout())), Channels.newChannel(OutputStream.nullOutputStream()));
            assertEquals(Protocol.VERSION, Protocol.readHello(reply), r.toString());
            Frames.Frame error = reply.read();
            assertEquals(Channel.STDERR, error.channel(), r.toString());
            String text = StandardCharsets.UTF_8.decode(error.payload()).toString();
            assertTrue(text.startsWith("ERROR: protocol error: " + c.getKey()), text);
            assertTrue(text.contains("nothing changed"), text);
            Frames.Frame exit = reply.read();
            assertEquals(Channel.EXIT, exit.channel(), r.toString());
            assertEquals(1, exit.payload().getInt(0));
        }
        assertArrayEquals(before, Files.readAllBytes(remote.db));
        assertEquals(List.of(), Fixtures.leftovers(remote.db.getParent()));
    }

    @Test
    void aFifoAtTheRemotePathDoesNotHoldUpTheRelaysLookAtThePages() throws Exception {
        remote = new RemoteSide("").start();
        Path fifo = remote.db.resolveSibling("fifo.sqlite3");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        newDb("new.sqlite3", "fresh");
        // The relay only reads a regular file there: a FIFO would block its open until a writer came, for ever.
        Fixtures.Result r = remote.cp(null, "new.sqlite3", target("db/fifo.sqlite3"));
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith(ON_HOST), r.toString());
        assertEquals(List.of("old"), remote.items());
    }

    /** A relay request as a client sends it, with {@code sample} in its last place. */
    private static List<String> relay(String side, String sample) {
        return List.of("relay", side, "db/production.sqlite3", "", sample);
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    private static void assertNoFileNamed(Path root, String name) throws Exception {
        try (var s = Files.walk(root)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().equals(name)).toList());
        }
    }
}
