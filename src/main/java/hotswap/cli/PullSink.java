package hotswap.cli;

import hotswap.wire.Failures;
import hotswap.wire.FileModes;
import hotswap.wire.OpenHandles;
import hotswap.wire.Writes;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * Where a pulled snapshot goes: standard output, or a local file written under a temp name beside
 * it and renamed into place only when the whole snapshot has arrived, so a failed pull never
 * leaves a partial file. The file has the live database's permission bits less the umask however
 * its bytes arrive, and its directory is synced after the rename.
 *
 * <p>The bytes come one of two ways. Either the sink {@link #take takes} the app's finished
 * snapshot file (a hard link to it, or a read-only copy of it), or the app streams it and each
 * piece is {@link #write written}.
 */
abstract class PullSink {
    /** The permission bits a pulled file may get from the live database's: no execute bits. */
    private static final Set<PosixFilePermission> READ_WRITE = EnumSet.of(
            PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    /**
     * Takes the app's snapshot file if this client can see it.
     *
     * @return {@code "linked"} (the destination is the snapshot file itself, nothing to copy),
     *         {@code "copying"} (it is open; {@link #finishTaken} copies it), or null: ask for the stream
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

    /** A refusal whose message says all, that nothing changed included: the destination is open elsewhere, or cannot be written. */
    static final class Refused extends IOException {
        Refused(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * @param mode the live database's permission bits; a file destination gets them less the
     *             umask, as a file this user creates with that mode does, however its bytes arrive
     */
    static PullSink open(String destination, OutputStream stdout, Set<PosixFilePermission> mode) throws IOException {
        return destination.equals("-") ? new ToStream(stdout) : ToFile.create(Path.of(destination), mode);
    }

    private static final class ToStream extends PullSink {
        private final OutputStream stream;
        private final WritableByteChannel out;

        ToStream(OutputStream stream) {
            this.stream = stream;
            // The process's own stdout is written from the frame's direct buffer as it is, with no copy into the heap.
            this.out = stream instanceof FileOutputStream file ? file.getChannel() : Channels.newChannel(stream);
        }

        @Override
        String take(OfferedSnapshot offer) {
            return offer.open() ? "copying" : null;
        }

        @Override
        void finishTaken(OfferedSnapshot offer, Progress progress) throws IOException {
            try {
                offer.copyTo(out, progress);
            } catch (OfferedSnapshot.ShortFile e) {
                throw e; // the app's side, in its own words
            } catch (IOException e) {
                throw notWritten(e);
            }
            finish();
        }

        @Override
        void write(ByteBuffer bytes) throws IOException {
            try {
                Writes.writeFully(out, bytes);
            } catch (IOException e) {
                throw notWritten(e);
            }
        }

        @Override
        void finish() throws IOException {
            try {
                stream.flush();
            } catch (IOException e) {
                throw notWritten(e);
            }
        }

        /** Standard output failed (its reader closed a pipe, a full disk): say so, and what it means. */
        private static IOException notWritten(IOException e) {
            return new IOException("cannot write to standard output: " + Failures.describe(e) + " (a reader that closed "
                    + "the pipe, such as head, or a full disk); what reached standard output is not a whole snapshot, "
                    + "and the app's database was not changed", e);
        }

        @Override
        void commit() {
        }

        @Override
        void discard() {
        }
    }

    static final class ToFile extends PullSink {
        private final Path destination;
        private final Path temp;
        /** The live database's read and write bits: the temp file is created with them, and the kernel takes the umask off. */
        private final Set<PosixFilePermission> mode;
        /** The temp file as written by a copy or a stream; null while none is open, and for a link. */
        private FileChannel out;
        /** The temp name as a checked hard link to the snapshot, opened; null unless linked. */
        private OpenedFile link;
        /** Volatile: {@link #discard} may run on a shutdown hook while the pull ends. */
        private volatile boolean committed;

        private ToFile(Path destination, Path temp, Set<PosixFilePermission> mode) {
            this.destination = destination;
            this.temp = temp;
            this.mode = EnumSet.noneOf(PosixFilePermission.class);
            for (PosixFilePermission p : mode) {
                if (READ_WRITE.contains(p)) {
                    this.mode.add(p);
                }
            }
        }

        /**
         * A file destination that starts empty and owner-only, for a delta pull to fill with a copy
         * of what is there now ({@link DeltaPull}) before it knows the live database's mode.
         */
        static ToFile forCopy(Path destination) throws IOException {
            return create(destination, PosixFilePermissions.fromString("rw-------"));
        }

        /** The temp file, open for writing. */
        FileChannel file() {
            return out;
        }

        /**
         * Gives the temp file the live database's read and write bits less the umask, as {@link #create} would have;
         * through its open descriptor, since the name may have been replaced meanwhile.
         */
        void adoptMode(Set<PosixFilePermission> live) throws IOException {
            OpenedFile.setPermissions(out, lessUmask(live));
        }

        /** The read and write bits of {@code bits} that this process's umask lets a file it creates have. */
        private static Set<PosixFilePermission> lessUmask(Set<PosixFilePermission> bits) {
            Set<PosixFilePermission> m = EnumSet.noneOf(PosixFilePermission.class);
            int umask = umask();
            for (PosixFilePermission p : bits) {
                if (READ_WRITE.contains(p) && (umask & (0400 >> p.ordinal())) == 0) {
                    m.add(p);
                }
            }
            return m;
        }

        /** This process's umask, from Linux's /proc; where it cannot be read, the strictest one. */
        private static int umask() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("Umask:")) {
                        return Integer.parseInt(line.substring(6).trim(), 8);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // below
            }
            return 0077;
        }

        static ToFile create(Path destination, Set<PosixFilePermission> mode) throws IOException {
            refuseIfOpenElsewhere(destination); // early, before any byte travels; commit looks again
            byte[] id = new byte[8];
            new SecureRandom().nextBytes(id);
            ToFile sink = new ToFile(destination,
                    destination.resolveSibling("." + shortened(destination.getFileName().toString()) + ".hotswap-"
                            + HexFormat.of().formatHex(id) + ".part"),
                    mode);
            sink.openTemp();
            return sink;
        }

        /**
         * The destination's name, cut to what leaves room in a file name (255 bytes on Linux file
         * systems) for the temp name's 31 bytes around it: a destination may have a name as long as
         * its file system allows.
         */
        private static String shortened(String name) {
            int room = 255 - ".".length() - ".hotswap-".length() - 16 - ".part".length();
            String cut = name;
            while (cut.getBytes(StandardCharsets.UTF_8).length > room) {
                cut = cut.substring(0, cut.offsetByCodePoints(cut.length(), -1));
            }
            return cut;
        }

        /** Creates the temp file, before any byte is in it, with the mode the pulled file has in the end. */
        private void openTemp() throws IOException {
            try {
                out = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                        PosixFilePermissions.asFileAttribute(mode));
            } catch (IOException e) {
                throw new Refused("cannot write " + destination + ": " + Failures.describe(e) + "; nothing changed. "
                        + "Pull to a directory you can write", e);
            }
        }

        /**
         * Links the temp name to the snapshot when both are on one file system and the link proves
         * to be the snapshot, and gives the link the mode the temp file got from the kernel (the
         * live database's, less the umask; the app made its snapshot 0600), so a pulled file's mode
         * does not depend on how its bytes arrived.
         */
        @Override
        String take(OfferedSnapshot offer) throws IOException {
            if (offer.offered()) {
                // Worked out, not read back from the temp file by its name, which another user who may write
                // this directory could by now have replaced with a link to a file of looser mode.
                Set<PosixFilePermission> pulledMode = lessUmask(mode);
                closeTemp();
                Files.delete(temp);
                link = offer.linkAs(temp);
                if (link != null) {
                    link.setPermissions(pulledMode);
                    return "linked";
                }
                openTemp();
            }
            return offer.open() ? "copying" : null;
        }

        @Override
        void finishTaken(OfferedSnapshot offer, Progress progress) throws IOException {
            if (link != null) { // SQLite synced the data; this makes the new link and its mode durable
                try {
                    link.channel().force(true);
                } catch (IOException e) {
                    throw new IOException("cannot write " + destination + ": " + Failures.describe(e), e);
                }
                progress.add(offer.size());
                return;
            }
            try {
                offer.copyTo(out, progress);
            } catch (IOException e) {
                throw notWritten("cannot copy the snapshot to " + destination, e);
            }
            finish();
        }

        @Override
        void write(ByteBuffer bytes) throws IOException {
            try {
                Writes.writeFully(out, bytes);
            } catch (IOException e) {
                throw notWritten("cannot write " + destination, e);
            }
        }

        @Override
        void finish() throws IOException {
            try {
                out.force(true);
            } catch (IOException e) {
                throw notWritten("cannot write " + destination, e);
            }
            out.close();
        }

        /**
         * A process with the destination open (an app on it, a sqlite3 shell) would go on with the
         * replaced file: what it writes would be lost, and a SQLite connection there opens its
         * journal by name, which could then be applied to the pulled file. One that only reads it
         * (a backup tool, an upload of the last pull) goes on reading the file it opened, whole, and
         * is left alone. Only this user's processes can be seen.
         */
        private static void refuseIfOpenElsewhere(Path destination) throws IOException {
            List<String> holders;
            try {
                holders = OpenHandles.otherProcessesWriting(destination);
            } catch (IOException e) {
                return; // nothing there yet, or nothing to tell
            }
            if (!holders.isEmpty()) {
                throw new Refused(destination + " is open in another process (" + String.join(", ", holders)
                        + "), which would go on using the replaced file and lose what it writes; " + destination
                        + " was not changed. Stop that process first, or, to replace a running app's database, push to it", null);
            }
        }

        /** Writing the temp file failed (a full disk, most often): the destination was not touched. */
        private IOException notWritten(String what, IOException e) {
            return new IOException(what + ": " + Failures.describe(e) + "; " + destination + " was not written. Free some space in "
                    + destination.getParent() + " and pull again", e);
        }

        /** Renames the complete temp file into place, then syncs the directory so the new name survives a crash. */
        @Override
        void commit() throws IOException {
            closeLink();
            refuseIfOpenElsewhere(destination);
            try {
                Files.move(temp, destination, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new IOException("cannot write " + destination + ": " + Failures.describe(e) + "; it was not changed", e);
            }
            committed = true;
            Path dir = destination.getParent();
            try {
                FileModes.syncDirectory(dir);
            } catch (IOException e) {
                throw new IOException("wrote " + destination + " but cannot sync its directory " + dir + ": "
                        + Failures.describe(e) + "; a crash could still lose the new name. Run sync", e);
            }
        }

        @Override
        void discard() {
            if (committed) {
                return;
            }
            closeLink();
            closeTemp();
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // Best effort: the name marks it as ours.
            }
        }

        private void closeLink() {
            if (link != null) {
                link.close();
                link = null;
            }
        }

        private void closeTemp() {
            if (out == null) {
                return;
            }
            try {
                out.close();
            } catch (IOException ignored) {
                // The file is being dropped: an error closing it does not matter.
            }
            out = null;
        }
    }
}
