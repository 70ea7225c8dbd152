/**
 * Keeping the trained weights: a safetensors checkpoint (session.saveCheckpoint) stored in
 * the browser's IndexedDB, or downloaded as a file; either loads back with
 * session.loadCheckpoint.
 */

const DATABASE = 'kiln-fashion-mnist';
const STORE = 'checkpoints';
const KEY = 'mlp';

function openDatabase(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error(`could not open IndexedDB '${DATABASE}'`));
  });
}

async function transact<T>(mode: IDBTransactionMode, use: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const database = await openDatabase();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = use(database.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    database.close();
  }
}

export async function storeCheckpoint(bytes: Uint8Array): Promise<void> {
  await transact('readwrite', (store) => store.put(bytes, KEY));
}

/** The stored checkpoint, or undefined when none was saved in this browser. */
export async function storedCheckpoint(): Promise<Uint8Array | undefined> {
  const value: unknown = await transact('readonly', (store) => store.get(KEY));
  return value instanceof Uint8Array ? value : undefined;
}

/** Offers `bytes` as a file download named `name`. */
export function download(bytes: Uint8Array, name: string): void {
  // slice(): a copy on a plain ArrayBuffer, which is what a Blob may hold.
  const url = URL.createObjectURL(new Blob([bytes.slice()], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
