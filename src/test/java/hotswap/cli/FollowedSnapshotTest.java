package hotswap.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.wire.FileIds;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The copy a pull to stdout makes of the app's snapshot while SQLite still writes it: pieces that
 * change after they were copied are copied again, so the result is the finished snapshot however
 * it was written. Here the test plays SQLite, writing a file of its own.
 */
class FollowedSnapshotTest {
    private static final int PIECE = DirectIo.STEP_BYTES;

    private Path dir;
    private Path snapshot;
    private Path target;
    private FileChannel writer;
    private final Random random = new Random(42);

    @BeforeEach
    void files() throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hs-follow-");
        snapshot = dir.resolve(".production.sqlite3.hotswap-0123456789abcdef.pull");
        target = Files.createFile(dir.resolve("out.bin"));
        writer = FileChannel.open(snapshot, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ);
    }

    @AfterEach
    void removeFiles() throws IOException {
        writer.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void piecesRewrittenAfterTheyWereCopiedAreCopiedAgainAndAnUnalignedTailIsWritten() throws Exception {
        append(3 * PIECE);
        FollowedSnapshot followed = follow(0);
        try (followed) {
            awaitCopied(followed, 3L * PIECE);
            // As SQLite does with the first page at commit, and as it might with any other.
            overwrite(24, new byte[] {1, 2, 3, 4});
            overwrite(2L * PIECE + 5000, new byte[] {9});
            append(2 * PIECE + 5000); // and a tail that is no multiple of 4 KiB
            awaitCopied(followed, 5L * PIECE);
            followed.stop();
            OfferedSnapshot offer = offer(writer.size());
            assertTrue(followed.canFinish(offer));
            try (FileChannel plain = FileChannel.open(target, StandardOpenOption.WRITE)) {
                followed.finish(writer.size(), plain);
            }
            assertEquals(2, followed.recopied(), "the two pieces that changed, no others");
        }
        assertArrayEquals(Files.readAllBytes(snapshot), Files.readAllBytes(target));
    }

    @Test
    void theCopyLandsAtTheOffsetItWasGivenAndLeavesWhatCameBefore() throws Exception {
        byte[] before = bytes(8192);
        Files.write(target, before);
        append(PIECE + 8192);
        try (FollowedSnapshot followed = follow(before.length)) {
            awaitCopied(followed, before.length + (long) PIECE);
            followed.stop();
            try (FileChannel plain = FileChannel.open(target, StandardOpenOption.WRITE)) {
                followed.finish(writer.size(), plain);
            }
            assertEquals(0, followed.recopied());
        }
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(before);
        expected.writeBytes(Files.readAllBytes(snapshot));
        assertArrayEquals(expected.toByteArray(), Files.readAllBytes(target));
    }

    @Test
    void aFinishedFileThatIsNotTheOneFollowedCannotFinishTheCopy() throws Exception {
        append(PIECE);
        try (FollowedSnapshot followed = follow(0)) {
            followed.stop();
            assertTrue(followed.canFinish(offer(PIECE)));
            assertFalse(followed.canFinish(new OfferedSnapshot(snapshot.toString(), "1:2", PIECE)), "another id");
            assertFalse(followed.canFinish(new OfferedSnapshot(snapshot + "x", FileIds.of(snapshot), PIECE)), "another path");
            assertFalse(followed.canFinish(offer(2L * PIECE)), "another size");
        }
    }

    @Test
    void onlyAFileNamedLikeASnapshotWithTheAnnouncedIdIsFollowed() throws Exception {
        Path live = Files.write(dir.resolve("production.sqlite3"), bytes(PIECE));
        assertNull(FollowedSnapshot.start(live.toString(), FileIds.of(live), target, 0, Progress.none(System.err)));
        assertNull(FollowedSnapshot.start(snapshot.toString(), "1:2", target, 0, Progress.none(System.err)));
        assertNull(FollowedSnapshot.start("relative/.production.sqlite3.hotswap-0123456789abcdef.pull", FileIds.of(snapshot), target, 0,
                Progress.none(System.err)));
        assertNull(FollowedSnapshot.start(snapshot.toString(), FileIds.of(snapshot), target, 4, Progress.none(System.err)),
                "an offset direct I/O cannot write at");
        assertEquals(0, Files.size(target));
    }

    private FollowedSnapshot follow(long base) throws IOException {
        FollowedSnapshot followed = FollowedSnapshot.start(snapshot.toString(), FileIds.of(snapshot), target, base, Progress.none(System.err));
        assertNotNull(followed, "direct I/O into " + dir + " should work on this machine");
        return followed;
    }

    private OfferedSnapshot offer(long size) throws IOException {
        return new OfferedSnapshot(snapshot.toString(), FileIds.of(snapshot), size);
    }

    private static void awaitCopied(FollowedSnapshot followed, long end) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (followed.copiedEnd() < end) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the follower copied up to " + followed.copiedEnd() + ", not " + end);
            }
            Thread.sleep(5);
        }
    }

    private void append(int n) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes(n));
        long pos = writer.size();
        while (b.hasRemaining()) {
            writer.write(b, pos + b.position());
        }
    }

    private void overwrite(long pos, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            writer.write(b, pos + b.position());
        }
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
