package hotswap.wire;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Names a file by its device and inode, in a form that can cross the control socket: the app
 * offers its finished snapshot by path and id, and the client takes it only if the file it finds at
 * that path (or the link it made to it) has the same id. A client in another mount namespace, which
 * sees a different file or none at that path, gets the snapshot streamed instead.
 *
 * <p>Internal to hotswap: the client and the server share it; it is not part of the public API.
 */
public final class FileIds {
    private FileIds() {
    }

    /** The device part of an id {@link #of} made; "" for a string that is not one. */
    public static String device(String id) {
        int colon = id.indexOf(':');
        return colon < 0 ? "" : id.substring(0, colon);
    }

    /** The id of the file at {@code path} (not following a symbolic link), as {@code device:inode}. */
    public static String of(Path path) throws IOException {
        try {
            Object dev = Files.getAttribute(path, "unix:dev", LinkOption.NOFOLLOW_LINKS);
            Object ino = Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS);
            return dev + ":" + ino;
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            throw new IOException("this platform does not report device and inode numbers", e);
        }
    }
}
