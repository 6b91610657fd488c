package hotswap;

import hotswap.wire.Protocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for a remote machine on this one: a login directory, an app directory in it with
 * {@code bin/hotswap} and the demo app serving {@code db/production.sqlite3} on
 * {@code tmp/sockets/hotswap.sock}, and stand-ins for the two transports. Each stand-in checks the
 * argument shape of the real one, then runs the remote command as the real one would, in the
 * login directory with a clean environment (so nothing of the client's environment leaks into
 * the "remote" side): {@code fake-ssh HOST COMMAND} through {@link #loginShell} {@code -c}, as sshd
 * hands it to the user's login shell; {@code fake-fly ssh console -a APP -C COMMAND} split into words with quotes honoured
 * and run without a shell, as fly's hallpass does.
 */
final class RemoteSide implements AutoCloseable {
    static final String HOST = "app.example";

    final Path root;
    final Path home;
    final Path appDir;
    final Path db;
    final Path socket;
    final Path local;
    final Path fakeSsh;
    final Path fakeFly;
    /**
     * As fake-ssh, but the bytes pass through two {@code cat}s of its own, as through an ssh
     * client: killing those ends the connection while the remote command lives on, as when the
     * network or the ssh client dies. (It reports cat's exit status, not the remote command's.)
     */
    final Path fakeSshPiped;
    /** Each remote command a stand-in ran, one per line, so tests can see what crossed the command line. */
    final Path commandLog;
    hotswap.demo.DemoApp app;
    /** The login shell fake-ssh hands the remote command to, as sshd does the user's. */
    String loginShell = "sh";

    /** @param appDirName the app directory's name inside the login directory (any characters); empty: the login directory */
    RemoteSide(String appDirName) throws Exception {
        root = Fixtures.tempDir();
        home = Files.createDirectory(root.resolve("home"));
        appDir = appDirName.isEmpty() ? home : Files.createDirectories(home.resolve(appDirName));
        local = Files.createDirectory(root.resolve("local"));
        db = Files.createDirectories(appDir.resolve("db")).resolve("production.sqlite3");
        Fixtures.itemsDb(db, "old");
        Files.setPosixFilePermissions(db, PosixFilePermissions.fromString("rw-r-----"));
        socket = appDir.resolve("tmp/sockets/hotswap.sock");
        Path bin = Files.createDirectory(appDir.resolve("bin"));
        wrapper(bin.resolve("hotswap"));
        commandLog = root.resolve("commands.log");
        fakeSsh = script(root.resolve("fake-ssh"), """
                #!/bin/sh
                # ssh HOST COMMAND: COMMAND goes to the login shell, in the login directory.
                [ $# -eq 2 ] || { echo "fake-ssh: expected HOST COMMAND, got $# arguments: $*" >&2; exit 255; }
                [ "$1" = "$FAKE_HOST" ] || { echo "fake-ssh: Could not resolve hostname $1" >&2; exit 255; }
                printf '%s\\n' "$2" >> "$FAKE_LOG"
                cd "$FAKE_HOME" || exit 255
                exec env -i PATH="$FAKE_PATH" HOME="$FAKE_HOME" "$FAKE_SHELL" -c "$2"
                """);
        fakeSshPiped = script(root.resolve("fake-ssh-piped"), """
                #!/bin/sh
                [ $# -eq 2 ] || { echo "fake-ssh: expected HOST COMMAND, got $# arguments: $*" >&2; exit 255; }
                cd "$FAKE_HOME" || exit 255
                cat | env -i PATH="$FAKE_PATH" HOME="$FAKE_HOME" sh -c "$2" | cat
                """);
        fakeFly = script(root.resolve("fake-fly"), """
                #!/bin/sh
                # fly ssh console -a APP -C COMMAND: COMMAND split into words, quotes honoured, run without a shell.
                if [ $# -ne 6 ] || [ "$1" != ssh ] || [ "$2" != console ] || [ "$3" != -a ] || [ "$5" != -C ]; then
                  echo "fake-fly: expected ssh console -a APP -C COMMAND, got: $*" >&2; exit 1
                fi
                [ "$4" = "$FAKE_HOST" ] || { echo "fake-fly: app $4 not found" >&2; exit 1; }
                printf '%s\\n' "$6" >> "$FAKE_LOG"
                cd "$FAKE_HOME" || exit 1
                exec env -i PATH="$FAKE_PATH" HOME="$FAKE_HOME" python3 -c \
                  'import os, shlex, sys; words = shlex.split(sys.argv[1]); os.execvp(words[0], words)' "$6"
                """);
    }

    /** Starts the app (as this user, in this JVM). */
    RemoteSide start() throws Exception {
        app = hotswap.demo.DemoApp.start(0, db, socket);
        return this;
    }

    /** A {@code hotswap} launcher script at {@code path} running the built jar. */
    static Path wrapper(Path path) throws IOException {
        return script(path, "#!/bin/sh\nexec '" + Fixtures.java() + "' -XX:TieredStopAtLevel=1 -jar '" + Fixtures.jar() + "' \"$@\"\n");
    }

    private static final String FAKE_RELAY = """
            #!/usr/bin/env python3
            import os, struct, sys, threading, zlib
            def drain():
                while os.read(0, 65536):
                    pass
            t = threading.Thread(target=drain)
            t.daemon = True
            t.start()
            def frame(tag, payload):
                os.write(1, tag + struct.pack(">i", len(payload)) + payload)
            def strings(*words):
                out = struct.pack(">H", len(words))
                for w in words:
                    out += struct.pack(">H", len(w)) + w
                return out
            frame(b"H", struct.pack(">i", %d))
            """;

    /**
     * The start of a relay that is not one (Python): drains the client, has {@code frame} and
     * {@code strings} to write frames, and says hello with this hotswap's protocol version; a test
     * adds the rest.
     */
    static String fakeRelay() {
        return FAKE_RELAY.formatted(Protocol.VERSION);
    }

    static Path script(Path path, String text) throws IOException {
        Files.writeString(path, text);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
        return path;
    }

    /** The environment the client runs with: where the stand-ins find the "remote" side. */
    Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("FAKE_HOST", HOST);
        env.put("FAKE_HOME", home.toString());
        env.put("FAKE_LOG", commandLog.toString());
        env.put("FAKE_PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        env.put("FAKE_SHELL", loginShell);
        return env;
    }

    /** Runs the client in the local directory, through the fake ssh, with {@code args}. */
    Fixtures.Result cp(byte[] stdin, String... args) throws Exception {
        return cpWith(List.of("--rsh", fakeSsh.toString()), stdin, args);
    }

    Fixtures.Result cpWith(List<String> extra, byte[] stdin, String... args) throws Exception {
        List<String> all = new java.util.ArrayList<>(List.of("cp"));
        all.addAll(List.of(args));
        all.addAll(extra);
        return Fixtures.cli(local, env(), stdin, all.toArray(String[]::new));
    }

    List<String> items() throws Exception {
        return Fixtures.query(db, "SELECT name FROM items ORDER BY id");
    }

    @Override
    public void close() {
        if (app != null) {
            app.close();
        }
        Fixtures.deleteTree(root);
    }

    /** Waits until the app is receiving a push into its temp file beside the database. */
    void awaitPushReceiving() throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (Fixtures.leftovers(db.getParent()).isEmpty()) {
            org.junit.jupiter.api.Assertions.assertTrue(System.nanoTime() < deadline, "the push never started");
            Thread.sleep(20);
        }
    }

    /** After a push cut midway: the app there is left with the old rows and, once it noticed, no temp file. */
    void assertOldDatabaseAndNoTempFileSoon() throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!Fixtures.leftovers(db.getParent()).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        org.junit.jupiter.api.Assertions.assertEquals(List.of(), Fixtures.leftovers(db.getParent()));
        org.junit.jupiter.api.Assertions.assertEquals(List.of("old"), items());
    }
}
