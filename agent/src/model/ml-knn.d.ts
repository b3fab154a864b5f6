/** Types for ml-knn 3.0.0 (the package ships none), limited to what knn.ts uses. */
declare module 'ml-knn' {
  type Distance = (a: ArrayLike<number>, b: ArrayLike<number>) => number;

  interface KnnModelJson {
    name: 'KNN';
    kdTree: unknown;
    k: number;
    classes: number[];
    isEuclidean: boolean;
  }

  export default class KNN {
    constructor(dataset: number[][], labels: number[], options?: { k?: number; distance?: Distance });
    static load(model: KnnModelJson, distance?: Distance): KNN;
    readonly k: number;
    readonly kdTree: {
      /** The nearest points (each the training row with its label appended) and their distances. */
      nearest(point: ArrayLike<number>, count: number): [number[], number][];
    };
    predict(dataset: number[][]): number[];
    toJSON(): KnnModelJson;
  }
}
