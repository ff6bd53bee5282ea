/** DI token: the app's name (`relay`, `correlator`, `explorer`), the `<app>` in `traces_<app>_*` metric names. */
export const APP_NAME = Symbol('APP_NAME');
