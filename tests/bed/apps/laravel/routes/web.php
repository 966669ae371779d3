<?php

use Illuminate\Support\Facades\DB;
use Illuminate\Support\Facades\Route;

Route::get('/', function () {
    return response('laravel ok', 200)->header('Content-Type', 'text/plain');
});

Route::get('/db', function () {
    $version = DB::selectOne('select version() as v')->v;

    return response('database '.DB::connection()->getDriverName().' '.$version, 200)
        ->header('Content-Type', 'text/plain');
});
