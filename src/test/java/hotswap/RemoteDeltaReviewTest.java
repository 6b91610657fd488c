package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.wire.CopyRequest;
import hotswap.wire.PageHashes;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Remote and delta copies at their edges: found by the second adversarial review of the remote and delta paths. */
class RemoteDeltaReviewTest {
    private static final String TARGET = RemoteSide.HOST + ":db/production.sqlite3";
    RemoteSide remote;

    @AfterEach
    void tearDown() {
        if (remote != null) {
            remote.close();
        }
    }

    /**
     * A transport that carries the copy until the app's {@code delta} message has crossed to the
     * client, then dies as ssh does when the connection drops: exit status 255, a line on stderr.
     */
    private Path cutAfterDelta() throws Exception {
        return RemoteSide.script(remote.root.resolve("cut-ssh"), """
                #!/usr/bin/env python3
                import os, subprocess, sys, threading
                child = subprocess.Popen([%s] + sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                def up():
                    while True:
                        b = os.read(0, 65536)
                        if not b:
                            break
                        try:
                            os.write(child.stdin.fileno(), b)
                        except OSError:
                            break
                t = threading.Thread(target=up)
                t.daemon = True
                t.start()
                seen = b""
                while True:
                    b = os.read(child.stdout.fileno(), 65536)
                    if not b:
                        break
                    os.write(1, b)
                    seen += b
                    if b"delta" in seen:
                        break
                child.kill()
                sys.stderr.write("Connection to app.example closed by remote host.\\n")
                sys.stderr.flush()
                os._exit(255)
                """.formatted("'" + remote.fakeSsh + "'"));
    }

    /**
     * A relay (a hostile or broken remote) that offers a whole pull of 8192 bytes, sends {@code frames}
     * (Python; {@code chunk(n)} is n zero bytes as a deflated chunk's payload), then exit 0.
     */
    private static String streamedPull(String frames) {
        return RemoteSide.fakeRelay() + """
                frame(b"C", strings(b"pull", b"8192", b"", b"", b"644"))
                def chunk(n):
                    return struct.pack('>i', n) + zlib.compress(bytes(n))
                %s
                frame(b"X", struct.pack(">i", 0))
                t.join()  # until the client hangs up
                """.formatted(frames);
    }

    /** {@code file} still holds {@code before}, byte for byte, and the local directory no temp file. */
    private void assertUnchanged(Path file, byte[] before, String what) throws Exception {
        assertTrue(Arrays.equals(before, Files.readAllBytes(file)), file + " changed: " + what);
        assertEquals(List.of(), Fixtures.leftovers(file.getParent()), what);
    }

    /** {@code hotswap cp --rsh TRANSPORT ARGS...}, run from the local side. */
    private Fixtures.Result cp(Path transport, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Fixtures.java(), "-jar", Fixtures.jar().toString(), "cp", "--rsh",
                transport.toString()));
        command.addAll(List.of(args));
        return Fixtures.run(remote.local, remote.env(), null, command);
    }

    @Test
    void aDeltaPullNeverChangesTheModeOfAFileAnotherUserLinkedInPlaceOfItsCopy() throws Exception {
        Fixtures.assumeRoot("play another user");
        Assumptions.assumeTrue(ClientTrustTest.setpriv() != null, "setpriv not found on PATH");
        remote = new RemoteSide("").start();
        // A directory another user may write (a shared group directory, without the sticky bit), and a file of ours elsewhere.
        Path shared = Files.createDirectory(remote.local.resolve("shared"));
        for (Path p : List.of(remote.root, remote.local)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        Fixtures.itemsDb(shared.resolve("copy.sqlite3"), "an older copy");
        Path victim = Files.writeString(remote.root.resolve("victim"), "secret");
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-------"));
        // A link that takes a while to answer, as ssh does while it logs in.
        Path slow = RemoteSide.script(remote.root.resolve("slow-ssh"), "#!/bin/sh\nsleep 4\nexec '" + remote.fakeSsh + "' \"$@\"\n");
        CompletableFuture<Fixtures.Result> pull = CompletableFuture.supplyAsync(() -> {
            try {
                return remote.cpWith(List.of("--rsh", slow.toString()), null, TARGET, "shared/copy.sqlite3");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, Fixtures.CONCURRENTLY);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (Fixtures.leftovers(shared).isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "the client never started its copy of the destination");
            Thread.sleep(5);
        }
        Thread.sleep(500); // the copy of a two-page file is made
        // The other user puts a symbolic link to our file in place of the client's copy.
        Process attack = new ProcessBuilder(ClientTrustTest.asOtherUser(List.of("sh", "-c", "cd '" + shared + "' && for f in "
                + ".copy.sqlite3.hotswap-*.part; do mv \"$f\" stolen && ln -s '" + victim + "' \"$f\"; done")))
                .redirectErrorStream(true).start();
        String said = new String(attack.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, attack.waitFor(), said);

        Fixtures.Result r = pull.get(60, TimeUnit.SECONDS);

        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(victim),
                "the client changed the mode of a file it did not create: " + r);
        assertEquals("secret", Files.readString(victim));
        // What lands at the destination is the other user's to decide, who may write its directory anyway.
    }

    @Test
    void aRemoteClaimingMorePagesThanTheClientCanHashGetsOneErrorLineNotAStackTrace() throws Exception {
        remote = new RemoteSide("");
        Path copy = Fixtures.itemsDb(remote.local.resolve("copy.sqlite3"), "an older copy");
        byte[] before = Files.readAllBytes(copy);
        // A relay (a hostile or broken remote) that offers a delta pull of the most pages a delta may have, 2^26.
        Path fake = RemoteSide.script(remote.root.resolve("fake-relay"), RemoteSide.fakeRelay() + """
                frame(b"C", strings(b"delta", b"pull", b"67108864", b"644"))
                frame(b"D", b"\\x00")  # no range differs
                frame(b"D", b"")
                frame(b"D", struct.pack(">q", 0) + bytes(40))  # no pages come
                frame(b"D", b"")
                t.join()  # until the client hangs up
                """);

        List<String> command = new ArrayList<>(List.of(Fixtures.java(), "-Xmx256m", "-jar", Fixtures.jar().toString(),
                "cp", "--rsh", fake.toString(), TARGET, "copy.sqlite3"));
        Fixtures.Result r = Fixtures.run(remote.local, remote.env(), null, command);

        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: ") && r.stderr().lines().count() == 1, r.stderr());
        assertTrue(r.stderr().contains("67108864 pages") && r.stderr().contains("--no-delta"), r.stderr());
        assertUnchanged(copy, before, r.toString());
    }

    @Test
    void deflatedPullChunksThatDoNotInflateAsAnnouncedOrWereNotAllowedLeaveNoFile() throws Exception {
        remote = new RemoteSide("");
        // The one deflated chunk each relay sends, then the end.
        Map<String, String> chunks = new LinkedHashMap<>();
        chunks.put("announcing more than it holds", "struct.pack('>i', 8192) + zlib.compress(bytes(4096))");
        chunks.put("announcing more than a pull's chunk", "struct.pack('>i', 1 << 20) + zlib.compress(bytes(1 << 20))");
        chunks.put("damaged", "struct.pack('>i', 8192) + b'\\xff\\x13\\x37'");
        chunks.put("too short for a length", "b'\\x00\\x01'");
        for (Map.Entry<String, String> c : chunks.entrySet()) {
            for (List<String> options : List.of(List.<String>of(), List.of("--no-compress"))) {
                Path fake = RemoteSide.script(remote.root.resolve("fake-relay"),
                        streamedPull("frame(b'Y', " + c.getValue() + "); frame(b'D', b'')"));
                List<String> args = new ArrayList<>(List.of("--no-delta"));
                args.addAll(options);
                args.addAll(List.of(TARGET, "pulled.sqlite3"));
                Fixtures.Result r = cp(fake, args.toArray(String[]::new));
                String what = c.getKey() + " " + options + ": " + r;
                assertEquals(1, r.exit(), what);
                assertTrue(r.stderr().startsWith("ERROR: protocol error: " + (options.isEmpty() ? "a deflated chunk "
                        : "the app sent deflated bytes this client did not allow")), what);
                assertFalse(Files.exists(remote.local.resolve("pulled.sqlite3")), what);
                assertEquals(List.of(), Fixtures.leftovers(remote.local), what);
            }
        }
    }

    @Test
    void aDamagedDeflatedPullChunkSaysThatTheDestinationWasNotWritten() throws Exception {
        remote = new RemoteSide("");
        Path destination = Fixtures.itemsDb(remote.local.resolve("pulled.sqlite3"), "the copy we had");
        byte[] before = Files.readAllBytes(destination);
        Path fake = RemoteSide.script(remote.root.resolve("fake-relay"), RemoteSide.fakeRelay() + """
                frame(b"C", strings(b"pull", b"8192", b"", b"", b"644"))
                frame(b"Y", struct.pack('>i', 8192) + b'\\xff\\x13\\x37')
                t.join()  # until the client hangs up
                """);
        Fixtures.Result r = cp(fake, "--no-delta", TARGET, "pulled.sqlite3");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: protocol error: a deflated chunk is damaged"), r.toString());
        assertTrue(r.stderr().contains("pulled.sqlite3 was not written"), "the error must say that nothing changed: " + r);
        assertUnchanged(destination, before, r.toString());
    }

    @Test
    void aStreamedPullThatDoesNotEndAsAnnouncedNeverReplacesTheDestinationNorSaysOk() throws Exception {
        remote = new RemoteSide("");
        Path destination = Fixtures.itemsDb(remote.local.resolve("pulled.sqlite3"), "the copy we had");
        byte[] before = Files.readAllBytes(destination);
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("half of the announced bytes, deflated", "frame(b'Y', chunk(4096)); frame(b'D', b'')");
        cases.put("half of the announced bytes, plain", "frame(b'D', bytes(4096)); frame(b'D', b'')");
        cases.put("no bytes at all", "frame(b'D', b'')");
        cases.put("more than the announced bytes", "frame(b'Y', chunk(8192)); frame(b'Y', chunk(1)); frame(b'D', b'')");
        cases.put("all bytes, but no end", "frame(b'Y', chunk(8192))");
        cases.put("bytes after the end", "frame(b'Y', chunk(8192)); frame(b'D', b''); frame(b'Y', chunk(512))");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Path fake = RemoteSide.script(remote.root.resolve("fake-relay"), streamedPull(c.getValue()));
            Fixtures.Result r = cp(fake, "--no-delta", TARGET, "pulled.sqlite3");
            String what = c.getKey() + ": " + r;
            assertEquals(1, r.exit(), what);
            assertTrue(r.stderr().startsWith("ERROR: protocol error: "), what);
            assertUnchanged(destination, before, what);
        }
    }

    @Test
    void aDeltaPullWhosePagesPastTheOldEndNeverArriveNeverReplacesTheDestinationNorSaysOk() throws Exception {
        remote = new RemoteSide("");
        Path copy = Fixtures.itemsDb(remote.local.resolve("copy.sqlite3"), "an older copy");
        byte[] before = Files.readAllBytes(copy);
        int pageSize;
        int old;
        String root;
        byte[] lastPage = new byte[4096];
        Arrays.fill(lastPage, (byte) 0x5a);
        try (FileChannel in = FileChannel.open(copy)) {
            CopyRequest.Pages shape = PageHashes.shape(in);
            pageSize = shape.pageSize();
            old = shape.count();
            assertEquals(4096, pageSize);
            // The hash of the file the app announces, three pages longer, of which it sends only the last: the two
            // before it keep the hash of a page that never arrived, sixteen zero bytes, which anyone can hash.
            PageHashes h = PageHashes.of(in, pageSize, old, n -> { }, null);
            h.resize(old + 3);
            h.hashPage(old + 2, lastPage, 0);
            root = h.root();
        }
        String stamps = HexFormat.of().formatHex(Arrays.copyOfRange(before, 24, 28))
                + HexFormat.of().formatHex(Arrays.copyOfRange(before, 92, 96));
        // A relay (a hostile or broken remote) that offers a delta pull of three pages more than the client has,
        // says that no range differs, announces one page, sends the last one, the end, then exit 0.
        Path fake = RemoteSide.script(remote.root.resolve("fake-relay"), RemoteSide.fakeRelay() + """
                frame(b"C", strings(b"delta", b"pull", b"%d", b"644"))
                frame(b"D", bytes((%d + 7) // 8))  # no range differs
                frame(b"D", b"")
                frame(b"D", struct.pack(">q", 1) + bytes.fromhex("%s") + bytes.fromhex("%s"))
                frame(b"D", b"\\x00" + struct.pack(">ii", 1, %d) + b"\\x5a" * 4096)
                frame(b"D", b"")
                frame(b"X", struct.pack(">i", 0))
                t.join()  # until the client hangs up
                """.formatted(old + 3, (old + 7) / 8, root, stamps, old + 2));

        Fixtures.Result r = cp(fake, "--delta", TARGET, "copy.sqlite3");

        assertEquals(1, r.exit(), "a pull that lacks pages the app announced succeeded: " + r + "; the file has "
                + Files.size(copy) / pageSize + " pages, " + (old + 3) + " announced");
        assertTrue(r.stderr().startsWith("ERROR: protocol error: "), r.toString());
        assertTrue(r.stderr().contains("copy.sqlite3 was not written"), r.toString());
        assertUnchanged(copy, before, r.toString());
    }

    @Test
    void aPullToAFifoNeverHangsOpeningItToReadPagesItDoesNotHave() throws Exception {
        remote = new RemoteSide("").start();
        // Where a delta pull (on by default for a remote copy) would look for pages to reuse: a named pipe, no writer.
        for (List<String> options : List.of(List.of("--no-delta"), List.<String>of(), List.of("--delta"))) {
            Path fifo = remote.local.resolve("pipe.sqlite3");
            Files.deleteIfExists(fifo);
            assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
            List<String> command = new ArrayList<>(List.of(Fixtures.java(), "-jar", Fixtures.jar().toString(), "cp",
                    "--rsh", remote.fakeSsh.toString()));
            command.addAll(options);
            command.addAll(List.of(TARGET, "pipe.sqlite3"));
            ProcessBuilder pb = new ProcessBuilder(command).directory(remote.local.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD);
            pb.environment().remove("HOTSWAP_SOCKET");
            pb.environment().putAll(remote.env());
            Process p = pb.start();
            boolean ended = p.waitFor(20, TimeUnit.SECONDS);
            if (!ended) {
                p.destroyForcibly().waitFor();
            }
            assertTrue(ended, "cp " + options + " to a named pipe hung, saying nothing");
            assertEquals(List.of(), Fixtures.leftovers(remote.local), options.toString());
        }
    }

    @Test
    void aRemotePullThatEndsWithSuccessBeforeAnySnapshotNeverSaysOkNorExitsZero() throws Exception {
        remote = new RemoteSide("");
        Path copy = Fixtures.itemsDb(remote.local.resolve("copy.sqlite3"), "an older copy");
        byte[] before = Files.readAllBytes(copy);
        // A relay (a hostile or broken remote) that answers a pull with exit 0 at once, or after only the phase of its snapshot.
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("at once", "");
        cases.put("after the phase of the snapshot", "frame(b'C', strings(b'phase', b'snapshot'))");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            for (String delta : List.of("--delta", "--no-delta")) {
                Path fake = RemoteSide.script(remote.root.resolve("fake-relay"), RemoteSide.fakeRelay()
                        + c.getValue() + "\n" + """
                        frame(b"X", struct.pack(">i", 0))
                        t.join()  # until the client hangs up
                        """);
                for (String destination : List.of("copy.sqlite3", "new.sqlite3")) {
                    Fixtures.Result r = cp(fake, delta, TARGET, destination);
                    String what = c.getKey() + " " + delta + " to " + destination + ": " + r;
                    assertEquals(1, r.exit(), "a pull that brought nothing succeeded: " + what);
                    assertTrue(r.stderr().startsWith("ERROR: protocol error: "), what);
                    assertTrue(Arrays.equals(before, Files.readAllBytes(copy)), what);
                    assertFalse(Files.exists(remote.local.resolve("new.sqlite3")), what);
                    assertEquals(List.of(), Fixtures.leftovers(remote.local), what);
                }
                // A push the app never asked the bytes of did not happen either.
                Fixtures.Result r = cp(fake, delta, "copy.sqlite3", TARGET);
                String what = c.getKey() + " " + delta + " push: " + r;
                assertEquals(1, r.exit(), "a push whose bytes the app never asked for succeeded: " + what);
                assertTrue(r.stderr().startsWith("ERROR: protocol error: "), what);
            }
        }
    }

    /**
     * A remote delta pull onto a disk that fills as the pages arrive (a local one is refused before
     * its copy starts, when the copy could not grow to the snapshot's size beside the app's reserve).
     */
    @Test
    void aDeltaPullThatFillsTheDiskSaysWhatHappenedThatTheCopyWasNotChangedAndWhatToDo() throws Exception {
        Path dir = Fixtures.tempDir();
        Path small = Files.createDirectory(dir.resolve("small"));
        Fixtures.mountTmpfs(small, "1m");
        try (RemoteSide app = new RemoteSide("app").start()) {
            String rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
                    + "INSERT INTO items(name) SELECT hex(randomblob(500)) FROM n";
            Fixtures.createDb(app.db, rows.formatted(1200));
            // An older, smaller copy: it and the copy made to patch fit; the pages the live database adds do not.
            Path copy = Fixtures.itemsDb(small.resolve("copy.sqlite3"));
            Fixtures.createDb(copy, rows.formatted(200));
            byte[] before = Files.readAllBytes(copy);
            long free = Files.getFileStore(small).getUsableSpace();
            assertTrue(2 * Files.size(copy) < free && Files.size(copy) + Files.size(app.db) > free,
                    "the test needs room for the copy twice, not for the live database beside it: " + free);

            Fixtures.Result r = app.cp(null, RemoteSide.HOST + ":db/production.sqlite3", copy.toString(), "--remote-dir", "app");

            assertEquals(1, r.exit(), r.toString());
            assertEquals("ERROR: cannot write " + copy + ": No space left on device; it was not changed. "
                    + "Free some space in " + small + " and pull again\n", r.stderr());
            assertTrue(Arrays.equals(before, Files.readAllBytes(copy)));
            assertEquals(List.of(), Fixtures.leftovers(small));
        } finally {
            Fixtures.unmount(small);
            Fixtures.deleteTree(dir);
        }
    }

    @Test
    void aWholePullThatFillsTheDiskSaysThatTheDestinationWasNotWrittenAndWhatToDo() throws Exception {
        Path dir = Fixtures.tempDir();
        Path small = Files.createDirectory(dir.resolve("small"));
        Fixtures.mountTmpfs(small, "1m");
        try {
            remote = new RemoteSide("");
            Fixtures.createDb(remote.db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) "
                    + "INSERT INTO items(name) SELECT hex(randomblob(500)) FROM n");
            remote.start();
            Map<String, String> env = new HashMap<>(remote.env());
            env.put("HOTSWAP_SOCKET", remote.socket.toString());
            String expected = "was not written. Free some space in " + small + " and pull again\n";

            // Taken from the app's snapshot file (another file system: copied), and streamed from a remote app.
            Fixtures.Result local = Fixtures.cli(small, env, null, "cp", remote.db.toString(), "here.sqlite3");
            Fixtures.Result streamed = Fixtures.cli(small, env, null, "cp", "--no-delta", "--rsh", remote.fakeSsh.toString(),
                    TARGET, "there.sqlite3");

            for (Fixtures.Result r : List.of(local, streamed)) {
                assertEquals(1, r.exit(), r.toString());
                assertTrue(r.stderr().startsWith("ERROR: ") && r.stderr().contains("No space left on device")
                        && r.stderr().endsWith(expected), r.stderr());
            }
            assertEquals(List.of(), Fixtures.leftovers(small));
            assertEquals(List.of(), Fixtures.leftovers(remote.db.getParent()));
        } finally {
            Fixtures.unmount(small);
            Fixtures.deleteTree(dir);
        }
    }

    @Test
    void aRemotePathThatNamesADirectoryIsRefusedWithoutAnInternalError() throws Exception {
        remote = new RemoteSide("");
        Files.createDirectory(remote.local.resolve("backups"));
        for (String path : List.of("/", "db/..", ".")) {
            Fixtures.Result r = remote.cp(null, RemoteSide.HOST + ":" + path, "backups");

            assertEquals(1, r.exit(), r.toString());
            assertEquals("ERROR: cannot pull " + RemoteSide.HOST + ":" + path + " into the directory backups: " + path
                    + " names a directory, not a database file; nothing changed. Name the database file\n", r.stderr());
        }
        assertEquals(List.of(), Fixtures.leftovers(remote.local.resolve("backups")));
        assertEquals(List.of(), Fixtures.leftovers(remote.local));
    }

    @Test
    void aTransportCutDuringADeltaPullSaysSoWithItsStderrAndLeavesTheCopyAsItWas() throws Exception {
        remote = new RemoteSide("").start();
        Path copy = Fixtures.itemsDb(remote.local.resolve("copy.sqlite3"), "an older copy");
        byte[] before = Files.readAllBytes(copy);

        Fixtures.Result r = remote.cpWith(List.of("--rsh", cutAfterDelta().toString()), null, TARGET, "copy.sqlite3");

        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: the connection to " + RemoteSide.HOST + " ended before the command finished; "
                + "copy.sqlite3 was not written."), r.stderr());
        assertTrue(r.stderr().contains("exited with status 255; its stderr:\nConnection to app.example closed by remote host."),
                r.stderr());
        assertUnchanged(copy, before, r.toString());
    }

    @Test
    void aTransportCutDuringADeltaPushSaysSoWithItsStderrAndLeavesTheRemoteDatabaseOld() throws Exception {
        remote = new RemoteSide("").start();
        Fixtures.itemsDb(remote.local.resolve("new.sqlite3"), "fresh");

        Fixtures.Result r = remote.cpWith(List.of("--rsh", cutAfterDelta().toString()), null, "new.sqlite3", TARGET);

        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("ERROR: the connection to " + RemoteSide.HOST + " ended before the command finished; "
                + "nothing changed."), r.stderr());
        assertTrue(r.stderr().contains("exited with status 255; its stderr:\nConnection to app.example closed by remote host."),
                r.stderr());
        remote.assertOldDatabaseAndNoTempFileSoon();
    }
}
