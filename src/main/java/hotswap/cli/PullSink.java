package hotswap.cli;

import hotswap.wire.EarlySync;
import hotswap.wire.FileIds;
import hotswap.wire.Writes;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * Where a pulled snapshot goes: standard output, or a local file written under a temp name beside
 * it and renamed into place only when the whole snapshot has arrived, so a failed pull never
 * leaves a partial file.
 *
 * <p>The bytes come one of two ways. Either the sink {@link #take takes} the app's snapshot file
 * (a link to it, a copy made while SQLite wrote it, or a copy of the finished file), or the app
 * streams it and each piece is {@link #write written}.
 */
abstract class PullSink {
    /** The copy made while the app wrote its snapshot, or null. */
    FollowedSnapshot followed;
    /** Whether {@link #followed} is the copy to finish. */
    boolean finishFollowed;

    /** Stops following, if it was, and says whether the finished snapshot completes the followed copy. */
    boolean followedCanFinish(OfferedSnapshot offer) {
        if (followed == null) {
            return false;
        }
        followed.stop();
        finishFollowed = followed.canFinish(offer);
        return finishFollowed;
    }

    /**
     * The app announced the snapshot file it is writing: a sink that can copy it meanwhile (stdout
     * redirected to a file, a file on another file system) starts to. Others wait for the finished file.
     */
    void growing(String path, String id, Progress progress) {
    }

    /**
     * Takes the app's snapshot file if this client can see it.
     *
     * @return {@code "linked"} (the destination is the snapshot file itself, nothing to copy),
     *         {@code "copying"} (it is open; {@link #finishTaken} copies it), {@code "followed"}
     *         (copied as it grew; {@link #finishTaken} copies what changed and the rest), or null:
     *         ask for the stream
     */
    abstract String take(OfferedSnapshot offer) throws IOException;

    /** Completes a take: copies the snapshot if it was not linked, and makes it durable where that applies. */
    abstract void finishTaken(OfferedSnapshot offer, Progress progress) throws IOException;

    /** Writes a piece of a streamed snapshot. */
    abstract void write(ByteBuffer bytes) throws IOException;

    /** All bytes arrived. */
    abstract void finish() throws IOException;

    /** The app reported success: make the snapshot visible at its destination. */
    abstract void commit() throws IOException;

    /** Removes anything a failed or stopped pull left; does nothing after {@link #commit}. May run on a shutdown hook. */
    abstract void discard();

    static PullSink open(String destination, OutputStream stdout) throws IOException {
        return destination.equals("-") ? new ToStream(stdout) : ToFile.create(Path.of(destination));
    }

    private static final class ToStream extends PullSink {
        /** open(2)'s O_APPEND on Linux, as /proc/self/fdinfo shows flags (octal). */
        private static final long O_APPEND = 02000;
        /** This process's stdout, as a path that opens the same file anew (Linux). */
        private static final Path STDOUT = Path.of("/proc/self/fd/1");

        private final OutputStream stream;
        private final WritableByteChannel out;
        /** With a followed copy, where the snapshot ends in stdout's file: what that copy wrote beyond is cut. */
        private long end = -1;

        ToStream(OutputStream stream) {
            this.stream = stream;
            // The process's own stdout is written from the frame's direct buffer as it is. (Through the
            // stream, each 1 MiB write had the JDK allocate, copy and free a native buffer of that size:
            // a pull to stdout took 1.43x `sqlite3 .backup` against 1.20x for a pull to a file.)
            this.out = stream instanceof FileOutputStream file ? file.getChannel() : Channels.newChannel(stream);
        }

        /**
         * Follows the snapshot when stdout is a file it may write anywhere, positioned at its end (so
         * that nothing past the copy is the user's, and a copy given up can be cut off).
         */
        @Override
        void growing(String path, String id, Progress progress) {
            try {
                if (followed == null && out instanceof FileChannel file && stdoutIsARegularFileNotAppending()
                        && file.position() == file.size()) {
                    followed = FollowedSnapshot.start(path, id, STDOUT, file.position(), progress);
                }
            } catch (IOException e) {
                // Position unknown: the finished file is copied as usual.
            }
        }

        @Override
        String take(OfferedSnapshot offer) throws IOException {
            if (followed != null) {
                end = followed.base() + offer.size();
            }
            if (followedCanFinish(offer)) {
                return "followed";
            }
            // What a followed copy wrote is written over by the copy or the stream, and cut where the snapshot ends.
            return offer.open() ? "copying" : null;
        }

        @Override
        void finishTaken(OfferedSnapshot offer, Progress progress) throws IOException {
            if (finishFollowed && out instanceof FileChannel file) {
                followed.finish(offer.size(), file);
                file.position(end);
            } else if (out instanceof FileChannel file && stdoutIsARegularFileNotAppending()) {
                long base = file.position();
                if (offer.copyDirect(STDOUT, base, progress)) {
                    file.position(base + offer.size()); // where the shell's next write to this file belongs
                } else {
                    offer.moveTo(file, base, progress);
                }
            } else {
                offer.copyTo(out, progress);
            }
            finish();
        }

        /**
         * Whether this stream is the process's stdout, redirected to a regular file that was not
         * opened for appending: then it may be written at any offset. (Linux writes every pwrite of
         * a file opened with O_APPEND at the end, so appending output is written in order.)
         */
        private boolean stdoutIsARegularFileNotAppending() {
            try {
                if (!(stream instanceof FileOutputStream file) || file.getFD() != FileDescriptor.out
                        || !Files.isRegularFile(STDOUT)) {
                    return false;
                }
                for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/1"))) {
                    if (line.startsWith("flags:")) {
                        return (Long.parseLong(line.substring("flags:".length()).trim(), 8) & O_APPEND) == 0;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // Not Linux, or not telling: write in order.
            }
            return false;
        }

        @Override
        void write(ByteBuffer bytes) throws IOException {
            Writes.writeFully(out, bytes);
        }

        @Override
        void finish() throws IOException {
            stream.flush();
            if (followed != null) {
                followed.close();
                // A followed copy given up may have written past the end of the snapshot that replaced it.
                if (out instanceof FileChannel file && end >= 0 && file.size() > end) {
                    file.truncate(end);
                }
            }
        }

        @Override
        void commit() {
        }

        @Override
        void discard() {
            if (followed != null) {
                followed.close();
            }
        }
    }

    private static final class ToFile extends PullSink {
        private final Path destination;
        private final Path temp;
        /** The temp file as written by a copy or a stream; null while none is open, and for a link. */
        private FileChannel out;
        /** Writes the snapshot back to disk as it arrives, so that the fsync at the end is short. */
        private EarlySync sync;
        /** Volatile: {@link #discard} may run on a shutdown hook while the pull ends. */
        private volatile boolean committed;

        private ToFile(Path destination, Path temp) {
            this.destination = destination;
            this.temp = temp;
        }

        static ToFile create(Path destination) throws IOException {
            byte[] id = new byte[8];
            new SecureRandom().nextBytes(id);
            ToFile sink = new ToFile(destination,
                    destination.resolveSibling("." + destination.getFileName() + ".hotswap-" + HexFormat.of().formatHex(id) + ".part"));
            sink.openTemp();
            return sink;
        }

        private void openTemp() throws IOException {
            try {
                out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new IOException("cannot write " + destination + ": " + e.getMessage(), e);
            }
            sync = EarlySync.start(out);
        }

        /**
         * Follows the snapshot when it is on another file system than the destination, where it
         * cannot be linked and must be copied anyway.
         */
        @Override
        void growing(String path, String id, Progress progress) {
            try {
                if (followed == null && out != null && !FileIds.device(FileIds.of(temp)).equals(FileIds.device(id))) {
                    followed = FollowedSnapshot.start(path, id, temp, 0, progress);
                }
            } catch (IOException e) {
                // Not comparable: the finished file is linked or copied as usual.
            }
        }

        /**
         * Links the temp name to the snapshot when both are on one file system, and gives the link
         * the mode a file this client creates gets (the app made its snapshot 0600), so a pulled
         * file's mode does not depend on how its bytes arrived.
         */
        @Override
        String take(OfferedSnapshot offer) throws IOException {
            if (followedCanFinish(offer)) {
                return "followed";
            }
            if (followed != null) {
                followed.close();
                followed = null;
                out.truncate(0); // none of its bytes: the finished file is taken from the start
            }
            if (offer.offered()) {
                Set<PosixFilePermission> mode = null;
                try {
                    mode = Files.getPosixFilePermissions(temp);
                } catch (UnsupportedOperationException e) {
                    // Not a POSIX file system: no link, which would keep the app's mode.
                }
                if (mode != null) {
                    closeTemp();
                    Files.delete(temp);
                    if (offer.linkAs(temp)) {
                        Files.setPosixFilePermissions(temp, mode);
                        return "linked";
                    }
                    openTemp();
                }
            }
            return offer.open() ? "copying" : null;
        }

        @Override
        void finishTaken(OfferedSnapshot offer, Progress progress) throws IOException {
            if (out == null) { // linked: SQLite synced the data; this makes the new link durable
                try (FileChannel linked = FileChannel.open(temp, StandardOpenOption.READ)) {
                    linked.force(true);
                } catch (IOException e) {
                    throw new IOException("cannot write " + destination + ": " + e.getMessage(), e);
                }
                progress.add(offer.size());
                return;
            }
            try {
                if (finishFollowed) {
                    followed.finish(offer.size(), out);
                    followed.close();
                } else if (!offer.copyDirect(temp, 0, progress)) {
                    offer.moveTo(out, 0, progress);
                }
            } catch (IOException e) {
                throw new IOException("cannot copy the snapshot to " + destination + ": " + e.getMessage(), e);
            }
            finish();
        }

        @Override
        void write(ByteBuffer bytes) throws IOException {
            try {
                Writes.writeFully(out, bytes);
            } catch (IOException e) {
                throw new IOException("cannot write " + destination + ": " + e.getMessage(), e);
            }
        }

        @Override
        void finish() throws IOException {
            try {
                sync.close();
                out.force(true);
            } catch (IOException e) {
                throw new IOException("cannot write " + destination + ": " + e.getMessage(), e);
            }
            out.close();
        }

        @Override
        void commit() throws IOException {
            Files.move(temp, destination, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            committed = true;
        }

        @Override
        void discard() {
            if (committed) {
                return;
            }
            if (followed != null) {
                followed.close();
            }
            closeTemp();
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // Best effort: the name marks it as ours.
            }
        }

        private void closeTemp() {
            if (out == null) {
                return;
            }
            try {
                sync.close();
            } catch (IOException ignored) {
                // The file is being dropped; an error flushing it does not matter.
            }
            try {
                out.close();
            } catch (IOException ignored) {
                // As above.
            }
            out = null;
        }
    }
}
