import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/**
 * Peerloop's local store: mongo-java-server on its H2 MVStore backend.
 *
 * <p>Usage: {@code java -cp 'libs/*:classes' PeerloopStore <host> <port> <data file>}
 *
 * <p>Two things differ from the library's own {@code H2MongoServer} main class:
 * <ul>
 *   <li>It reports MongoDB 5.0's wire version (13). The library's 5.0 level says 8, which
 *       current PyMongo (4.14 and later) refuses as too old.</li>
 *   <li>Every command that changed something is committed before its reply is sent. The
 *       MVStore otherwise commits about once a second, so a crash (kill -9) would lose
 *       writes the client had been told were done.</li>
 *   <li>A filter on one {@code _id} value plus further conditions (a version-guarded save:
 *       {@code {_id: x, version: 3}}) reads that one document through the {@code _id} index.
 *       The library uses an index only when the filter has exactly the index's fields, so
 *       such a filter scanned the whole collection.</li>
 * </ul>
 */
public final class PeerloopStore {

    private static final MongoVersion MONGO_5_0_WIRE_13 = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(5, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 13;
        }
    };

    /** Set before the backend opens any database (the library calls back during construction). */
    private static MVStore store;

    static final class CommittingH2Backend extends H2Backend {

        CommittingH2Backend(MVStore store) {
            super(store);
        }

        @Override
        protected MongoDatabase openOrCreateDatabase(String databaseName) {
            return new IdFirstH2Database(databaseName, store, getCursorRegistry());
        }

        @Override
        public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
            try {
                return super.handleCommand(channel, databaseName, command, query);
            } finally {
                // Also after a failed command: part of a bulk write may have been applied.
                if (getMvStore().hasUnsavedChanges()) {
                    commit();
                }
            }
        }
    }

    static final class IdFirstH2Database extends H2Database {

        IdFirstH2Database(String databaseName, MVStore mvStore, CursorRegistry cursorRegistry) {
            super(databaseName, mvStore, cursorRegistry);
        }

        @Override
        protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
            // The map names H2Database uses, so existing data files open unchanged.
            String fullName = getFullCollectionNamespace(collectionName);
            MVMap<Object, Document> dataMap = store.openMap("databases." + fullName);
            MVMap<String, Object> metaMap = store.openMap("meta." + fullName);
            return new IdFirstH2Collection(this, collectionName, options, dataMap, metaMap, cursorRegistry);
        }
    }

    static final class IdFirstH2Collection extends H2Collection {

        IdFirstH2Collection(MongoDatabase database, String collectionName, CollectionOptions options,
                            MVMap<Object, Document> dataMap, MVMap<String, Object> metaMap,
                            CursorRegistry cursorRegistry) {
            super(database, collectionName, options, dataMap, metaMap, cursorRegistry);
        }

        @Override
        protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int limit,
                                             int batchSize, Document fieldSelector) {
            Object id = query.get("_id");
            if (query.size() > 1 && isPlainValue(id)) {
                // At most one document has this _id; the full filter then decides on it.
                List<Document> candidates = new ArrayList<>();
                super.queryDocuments(new Document("_id", id), null, 0, 0, 0, null).forEach(candidates::add);
                return matchDocumentsFromStream(candidates.stream(), query, orderBy, numberToSkip, limit,
                    batchSize, fieldSelector);
            }
            return super.queryDocuments(query, orderBy, numberToSkip, limit, batchSize, fieldSelector);
        }

        private static boolean isPlainValue(Object value) {
            return value != null
                && !(value instanceof Document)
                && !(value instanceof Collection)
                && !BsonRegularExpression.isRegularExpression(value);
        }
    }

    private PeerloopStore() {
    }

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: PeerloopStore <host> <port> <data file>");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        store = new MVStore.Builder().fileName(args[2]).compress().open();
        H2Backend backend = new CommittingH2Backend(store);
        backend.version(MONGO_5_0_WIRE_13);
        MongoServer server = new MongoServer(backend);
        // Closing the server closes the backend, which commits and closes the MVStore.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "peerloop-store-shutdown"));
        server.bind(host, port);
        System.out.println("peerloop store listening on " + host + ":" + port + ", data in " + args[2]);
    }
}
