package hotswap.wire;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * What both sides do to files besides their bytes: the permission bits as they cross the socket
 * (the app sends the live database's, the client gives them to the file it pulls), and making a
 * rename durable.
 *
 * <p>Internal to hotswap: the client and the server share it; it is not part of the public API.
 */
public final class FileModes {
    private FileModes() {
    }

    /** Permission bits as octal text, {@code "640"}. */
    public static String toOctal(Set<PosixFilePermission> mode) {
        int bits = 0;
        for (PosixFilePermission p : mode) {
            bits |= bit(p);
        }
        return Integer.toOctalString(bits);
    }

    /**
     * Permission bits from octal text as {@link #toOctal} makes it.
     *
     * @throws ProtocolException for anything else
     */
    public static Set<PosixFilePermission> fromOctal(String octal) throws ProtocolException {
        if (!octal.matches("[0-7]{1,4}")) {
            throw new ProtocolException("malformed file mode: " + octal);
        }
        int bits = Integer.parseInt(octal, 8);
        Set<PosixFilePermission> mode = EnumSet.noneOf(PosixFilePermission.class);
        for (PosixFilePermission p : PosixFilePermission.values()) {
            if ((bits & bit(p)) != 0) {
                mode.add(p);
            }
        }
        return mode;
    }

    /** OWNER_READ is 0400, and each next permission half of the one before. */
    private static int bit(PosixFilePermission p) {
        return 0400 >> p.ordinal();
    }

    /** Flushes {@code dir} itself, so that a rename or a new name in it survives a crash. */
    public static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
