package hotswap.cli;

import hotswap.wire.ProtocolException;
import java.util.Base64;
import java.util.List;

/**
 * What a remote command tells the relay before its own request: which side of a copy is the
 * relay's, or that it asks for the status; the path there as the user typed it (the relay resolves
 * it on its own file system); and the socket the user named with {@code --socket}, if any. The cp
 * request that follows has {@code -} on the relay's side; the relay puts the resolved path there.
 *
 * @param side   what the relay's side is
 * @param path   the remote PATH, relative to the relay's directory or absolute; null for a status
 * @param socket the app's socket as given to {@code --socket}, or null for the relay's default
 * @param sample for a delta push left to the default, the {@link ReuseSample} of the pushed file;
 *               else null
 */
record RelayRequest(Side side, String path, String socket, byte[] sample) {
    static final String COMMAND = "relay";

    /** The relay's side of a copy (push: its side is the destination), or a status request. */
    enum Side {
        PUSH, PULL, STATUS
    }

    /** A copy whose relay side is the destination ({@code push}) or the source. */
    RelayRequest(boolean push, String path, String socket, byte[] sample) {
        this(push ? Side.PUSH : Side.PULL, path, socket, sample);
    }

    boolean push() {
        return side == Side.PUSH;
    }

    List<String> encode() {
        return List.of(COMMAND, side.name().toLowerCase(java.util.Locale.ROOT), path == null ? "" : path, socket == null ? "" : socket,
                sample == null ? "" : Base64.getEncoder().encodeToString(sample));
    }

    static RelayRequest decode(List<String> strings) throws ProtocolException {
        if (strings.size() != 5 || !COMMAND.equals(strings.get(0))) {
            throw new ProtocolException("expected a relay request");
        }
        Side side = switch (strings.get(1)) {
            case "push" -> Side.PUSH;
            case "pull" -> Side.PULL;
            case "status" -> Side.STATUS;
            default -> throw new ProtocolException("relay side must be push, pull or status: " + strings.get(1));
        };
        String path = strings.get(2);
        if (side == Side.STATUS ? !path.isEmpty() : path.isEmpty() || path.indexOf('\0') >= 0) {
            throw new ProtocolException(side == Side.STATUS ? "a relayed status takes no path"
                    : "relay path is empty or contains a NUL byte");
        }
        String socket = strings.get(3);
        if (socket.indexOf('\0') >= 0) {
            throw new ProtocolException("socket path contains a NUL byte");
        }
        byte[] sample = null;
        if (!strings.get(4).isEmpty()) {
            if (side != Side.PUSH) {
                throw new ProtocolException("only a push carries a sample of its pages");
            }
            try {
                sample = Base64.getDecoder().decode(strings.get(4));
            } catch (IllegalArgumentException e) {
                throw new ProtocolException("the sample of pages is not base64: " + e.getMessage());
            }
        }
        return new RelayRequest(side, side == Side.STATUS ? null : path, socket.isEmpty() ? null : socket, sample);
    }
}
